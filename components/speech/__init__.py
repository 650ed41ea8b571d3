"""Unsupervised speech recognition components: audio -> phones (GAN) -> words.

Modules, in pipeline order: `corpus` (which verses are heard / read, or the user's files),
`synth` (built-in flite corpus), `audio` (reading files), `features` (MFCC / log-mel),
`prepare` (one shard's utterances -> features), `segment` (spectral-change or k-means segments,
pooling, PCA), `phones` (phone set and text -> phones), `lm` (phone / word n-gram LMs), `gan`
(generator and discriminator), `criterion` (unsupervised model selection, `SPEECH_CRITERION`),
`supervised` (paired references, self-training, baselines), `decode` (phones -> words),
`metrics` (PER / WER, confusion, reference phones), `evaluate` (scoring a system on the test
utterances), `model` (the packaged recogniser and file transcription). `config` holds their
settings; `catalog` the artifacts' file formats.
"""
