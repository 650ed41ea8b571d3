"""Word-embedding mapping stage: align two monolingual spaces without (or with) a dictionary."""
