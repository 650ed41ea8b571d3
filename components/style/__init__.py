"""Unsupervised text style transfer: two styles of one language, trained without parallel text."""
