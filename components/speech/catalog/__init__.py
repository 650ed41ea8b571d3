"""File formats of the speech stage's artifacts, one module per kind, each a small dataclass with
`save(directory)` / `load(directory)`. Split by kind so that what reads audio never imports
the GAN or the decoder (a task's cache key covers every module its module imports)."""
