"""Settings of the speech stage, grouped per component (frozen pydantic models).

Every field has its default and a comment saying why. Variants are Enums; the model-selection
criterion and its direction are declared once, as a `components.report.Criterion`.
"""
from __future__ import annotations

from enum import Enum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from components.split import SplitConfig
from components.device import DeviceRequest


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeatureKind(str, Enum):
    mfcc = "mfcc"      # 13 cepstra: decorrelated, what the DESIGN measurements used
    logmel = "logmel"  # log mel filterbank energies
    ssl = "ssl"        # a layer of a pretrained wav2vec 2.0 / HuBERT / XLS-R model (wav2vec-U's input)


class CheckpointFormat(str, Enum):
    torchaudio = "torchaudio"    # torch.save({'config': wav2vec2_model kwargs, 'state_dict': ...})
    fairseq = "fairseq"          # fairseq's wav2vec 2.0 / HuBERT / XLS-R pretraining checkpoint (.pt)
    huggingface = "huggingface"  # transformers' save_pretrained directory (Wav2Vec2 / HuBERT)


class FeaturesConfig(_Frozen):
    features_kind: FeatureKind = FeatureKind.mfcc
    features_n_mfcc: int = Field(13, ge=1)         # cepstra kept (c0 included)
    features_n_mels: int = Field(40, ge=8)         # mel bands (MFCC input, or the log-mel output)
    features_win_ms: float = Field(25.0, gt=0)     # analysis window
    features_hop_ms: float = Field(10.0, gt=0)     # frame shift: 100 frames per second
    features_deltas: int = Field(2, ge=0, le=2)    # 0: none, 1: +delta, 2: +delta+delta-delta
    features_normalise: bool = True                # per-utterance mean/variance normalisation
    # ssl only (window, hop, cepstra and deltas do not apply: the model fixes its 20 ms frames,
    # and its layers already see seconds of context)
    features_checkpoint: Path | None = None        # the pretrained model: a file, or a Hugging Face directory
    features_format: CheckpointFormat = CheckpointFormat.torchaudio  # how that checkpoint is written
    features_layer: int | None = Field(None, ge=1)  # transformer layer read (1-based); None: 5/8 of the
    #   depth, as wav2vec-U reads the 15th of 24 (upper-middle layers carry the most phonetic information)
    features_chunk_s: float = Field(30.0, ge=2)    # longer audio is encoded in chunks: attention memory
    #   grows with the square of the length

    @model_validator(mode="after")
    def _checkpoint_with_ssl(self) -> "FeaturesConfig":
        if self.features_kind is FeatureKind.ssl and self.features_checkpoint is None:
            raise ValueError("features_kind 'ssl' needs features_checkpoint (the pretrained model)")
        if self.features_kind is not FeatureKind.ssl and self.features_checkpoint is not None:
            raise ValueError(f"features_checkpoint is set but features_kind is '{self.features_kind.value}': "
                             f"set features_kind = 'ssl' to use it")
        return self


class PoolKind(str, Enum):
    mean = "mean"      # mean of the segment's frames (wav2vec-U)
    thirds = "thirds"  # means of its first, middle and last third + log duration: keeps the shape


class SegmentMethod(str, Enum):
    # boundaries at peaks of the distance between the mean static cepstra of the frames just
    # before and just after each frame: on flite audio about 1.4 segments per phone, 88% pure
    spectral_change = "spectral_change"
    # runs of one k-means unit (wav2vec-U): 4-5 segments per phone on MFCC
    kmeans_runs = "kmeans_runs"


class SegmentConfig(_Frozen):
    segment_method: SegmentMethod = SegmentMethod.spectral_change
    segment_change_window: int = Field(3, ge=1)    # frames averaged on each side of a candidate
    segment_change_gap: int = Field(3, ge=1)       # minimum frames between two boundaries
    segment_change_threshold: float = Field(1.5, ge=0)  # minimum peak distance (normalised units; set on
    #   13 dims, and distances over d dims are scaled by sqrt(13 / d) so that it fits any width)
    segment_change_dims: int = Field(13, ge=0)     # leading feature dims compared (MFCC's static cepstra);
    #   0 = all, as self-supervised features need (their dims have no order)
    segment_clusters: int = Field(64, ge=2)        # k-means units on frames; fewer = purer runs
    segment_kmeans_iters: int = Field(25, ge=1)
    segment_kmeans_frames: int = Field(200_000, ge=100)  # frames sampled to fit k-means
    segment_context: int = Field(1, ge=0)          # stack +-context frames before clustering
    segment_smooth_frames: int = Field(5, ge=1)    # majority filter on unit ids (odd; 1 = off)
    segment_min_frames: int = Field(2, ge=1)       # shorter runs merge into a neighbour
    segment_pool: PoolKind = PoolKind.thirds      # GAN criterion 142 (thirds) vs 323 (mean) after 600-800 steps
    segment_pca_dim: int = Field(64, ge=1)         # PCA of the pooled segment features


class GeneratorConfig(_Frozen):
    generator_kernel: int = Field(4, ge=1)         # conv width over segments: the context it sees (wav2vec-U: 4)
    generator_hidden: int = Field(0, ge=0)         # hidden conv units; 0 = one linear conv (wav2vec-U): a
    #   wider generator can write text-like strings whatever the audio (its criterion looks good, PER not).
    #   Trained on labels, on spectral-change segments: linear 51-56% PER, hidden 256 19%.
    generator_dropout: float = Field(0.1, ge=0, lt=1)  # on the input segment features
    generator_lr: float = Field(4e-4, gt=0)
    generator_join_segments: bool = True           # average adjacent segments with the same argmax
    generator_gumbel: bool = False                 # hard Gumbel-softmax outputs instead of softmax
    generator_gumbel_tau: float = Field(1.0, gt=0)


class DiscriminatorConfig(_Frozen):
    discriminator_kernel: int = Field(5, ge=1)         # odd: centred "same" padding
    discriminator_dim: int = Field(64, ge=1)       # 256 costs ~1.5 s/step on one CPU core
    discriminator_layers: int = Field(2, ge=1)     # conv layers before the scoring conv
    discriminator_dropout: float = Field(0.1, ge=0, lt=1)
    discriminator_lr: float = Field(5e-4, gt=0)
    discriminator_weight_decay: float = Field(1e-4, ge=0)


class GanConfig(_Frozen):
    generator: GeneratorConfig = GeneratorConfig()
    discriminator: DiscriminatorConfig = DiscriminatorConfig()
    gan_steps: int = Field(800, ge=1)              # G+D updates (~0.3 s each on one core); wav2vec-U uses 150k
    gan_batch_size: int = Field(64, ge=1)          # utterances (and text sentences) per batch
    gan_crop: int = Field(100, ge=8)               # random window: max segments / text phones per sample
    gan_adversarial_weight: float = Field(1.0, ge=0)  # generator's fool-the-discriminator term
    gan_odm_weight: float = Field(1.0, ge=0)       # phone-bigram distribution matching to the text
    gan_unigram_weight: float = Field(0.0, ge=0)   # KL(text phone frequencies || generated ones)
    gan_gradient_penalty: float = Field(1.5, ge=0)  # on D, between real and fake (wav2vec-U 1.5-2)
    gan_smoothness_weight: float = Field(0.5, ge=0)  # mean squared diff of adjacent G logits
    gan_code_penalty: float = Field(2.0, ge=0)     # pushes batch phone-usage perplexity up
    gan_eval_every: int = Field(200, ge=1)         # steps between criterion evaluations
    gan_eval_utterances: int = Field(200, ge=1)    # audio utterances transcribed for the criterion


class LmConfig(_Frozen):
    lm_phone_order: int = Field(4, ge=1)           # phone n-gram order for the criterion
    lm_word_order: int = Field(3, ge=1)            # word n-gram order for decoding
    lm_discount: float = Field(0.75, gt=0, lt=1)   # absolute discounting (interpolated)


class SupervisedConfig(_Frozen):
    supervised_steps: int = Field(1000, ge=1)
    supervised_batch_size: int = Field(32, ge=1)
    supervised_lr: float = Field(1e-3, gt=0)
    supervised_hidden: int = Field(256, ge=0)      # hidden conv layer of the reference generator
    self_train_rounds: int = Field(1, ge=0)        # rounds of retraining on the GAN's own labels


class DecodeMethod(str, Enum):
    # flashlight-text's CTC lexicon decoder, word LM through KenLM, on emissions that encode the
    # phone string and the edit costs below: on the quick preset's supervised reference, 0.03 s
    # per test utterance, WER 35% (scripts/decode_compare.py)
    lexicon = "lexicon"
    beam = "beam"      # the hand-written Python beam: 1.3-3.5 s per utterance, WER 58% (beam 8, weight 0.3)


class DecodeConfig(_Frozen):
    # Weights and costs tuned for the lexicon decoder by coordinate descent on the WER of 100
    # training utterances held out from a copy of the supervised reference (PER 22% there, 21%
    # on the test): lm weight 0.3 -> 0.7 and insertion 4 -> 2 gained most.
    decode_method: DecodeMethod = DecodeMethod.lexicon
    decode_beam: int = Field(64, ge=1)             # hypotheses kept per frame (lexicon; it merges only equal
    #   word histories, so it needs more than the Python beam, which keeps this many per input phone at a word
    #   boundary and as many inside words). Lexicon, 40 training utterances, weight 0.3, costs 4: beam 8 33% WER,
    #   32 27%, 64 26% (0.03-0.07 s each), 512 22% (0.7 s)
    decode_beam_threshold: float = Field(25.0, gt=0)  # lexicon: drop hypotheses this far (nats) below the best
    decode_lm_weight: float = Field(0.7, ge=0)     # word LM log-prob scale (0.3 suited the Python beam)
    decode_word_penalty: float = Field(0.0)        # added per word (negative favours more words)
    decode_sub_cost: float = Field(5.0, ge=0)      # phone substitution, in nats
    decode_del_cost: float = Field(4.0, ge=0)      # input phone not in the word string
    decode_ins_cost: float = Field(2.0, ge=0)      # lexicon phone missing from the input


class SpeechConfig(_Frozen):
    features: FeaturesConfig = FeaturesConfig()
    segment: SegmentConfig = SegmentConfig()
    gan: GanConfig = GanConfig()
    lm: LmConfig = LmConfig()
    supervised: SupervisedConfig = SupervisedConfig()
    decode: DecodeConfig = DecodeConfig()

    @model_validator(mode="after")
    def _ssl_dims(self) -> "SpeechConfig":
        seg = self.segment
        if (self.features.features_kind is FeatureKind.ssl and seg.segment_method is SegmentMethod.spectral_change
                and seg.segment_change_dims != 0):
            raise ValueError(f"segment.segment_change_dims = {seg.segment_change_dims} compares the leading dims of "
                             f"self-supervised features, whose order means nothing: set 0 (all dims)")
        return self


class SpeechDataConfig(_Frozen):
    """What is heard and what is read. Built-in: flite speaks verses of half A (train) and of
    the test books (test); the unpaired text is half B. Or the user's audio, transcripts, text."""

    train_utterances: int = Field(800, ge=1)       # half-A verses synthesised for training
    test_utterances: int = Field(100, ge=1)        # held-out verses synthesised for the test
    voices: tuple[str, ...] = ("kal16", "slt", "rms", "awb")  # flite voices, used in turn
    min_words: int = Field(6, ge=1)                # verse length range spoken (words)
    max_words: int = Field(30, ge=1)
    text_sentences: int | None = Field(None, ge=1)  # cap on unpaired text sentences (None: all)
    split: SplitConfig = SplitConfig()             # the same halves and test books as the text stages
    seed: int = 0                                  # which verses are drawn
    shards: int = Field(2, ge=1)                   # audio preparation tasks per split
    audio_dir: Path | None = None                  # the user's WAV/FLAC training audio (any rate)
    test_audio_dir: Path | None = None             # the user's test audio (needs transcripts to score)
    transcripts: Path | None = None                # '<file name><TAB><text>' lines, evaluation only
    text_files: tuple[Path, ...] = ()              # the user's unpaired text, one sentence a line


class SpeechStageConfig(_Frozen):
    """The speech stage: data, the components' settings, the GAN seeds the criterion picks from."""

    data: SpeechDataConfig = SpeechDataConfig()
    speech: SpeechConfig = SpeechConfig()
    seeds: tuple[int, ...] = Field((0, 1, 2), min_length=1)  # one GAN task each, in parallel
    references: bool = True                                   # supervised reference rows
    decode_words: bool = True                                 # WER after phones -> words
    device: DeviceRequest = "auto"
