"""Tasks of the embedding-mapping stage, one module per concern (each module is what its tasks' cache keys cover)."""
