"""Tasks of the style-transfer pipeline (the corpus, mapping and generator tasks are translation's)."""
