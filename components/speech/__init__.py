"""Unsupervised speech recognition components: audio -> phones (GAN) -> words.

Modules, in pipeline order: `synth` (built-in flite corpus), `audio` (reading files),
`features` (MFCC / log-mel), `segment` (k-means units, pooling, PCA), `phones` (phone set and
text -> phones), `lm` (phone / word n-gram LMs), `gan` (generator and discriminator),
`criterion` (unsupervised model selection), `supervised` (paired reference and baselines),
`decode` (phones -> words), `metrics` (PER / WER). `config` holds their settings.
"""
