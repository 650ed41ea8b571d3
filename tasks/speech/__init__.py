"""Tasks of the speech stage, one module per concern (each module is what its tasks' cache keys cover)."""
