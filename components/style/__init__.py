"""Evaluation of unsupervised text style transfer (archaic KJV English <-> modern English):
a style classifier, PINC and self-BLEU against the inputs."""
