"""Unsupervised neural translation: denoising and on-the-fly back-translation (Lample et al. 2018)."""
