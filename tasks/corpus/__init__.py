"""Tasks of the corpus preparation stage, one module per concern (each module is what its tasks' cache keys cover)."""
