"""Tasks of the back-translation stage, one module per concern (each module is what its tasks' cache keys cover)."""
