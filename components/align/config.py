"""Typed configuration of the word-embedding mapping stage.

One frozen model per component, grouped under `AlignConfig`. Defaults are the published
ones (MUSE: Conneau et al. 2018, `unsupervised.py`; VecMap: Artetxe et al. 2018,
`map_embeddings.py --unsupervised`) unless a comment says otherwise. Variants are Enums.
"""
from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from components.device import DeviceRequest


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Normalization(str, Enum):
    """How both embedding spaces are normalised before mapping (see `normalize.NORMALIZATION_STEPS`)."""

    NONE = "none"
    UNIT = "unit"  # length normalisation only
    UNIT_CENTER_UNIT = "unit_center_unit"  # VecMap's unsupervised recipe
    ITERATIVE = "iterative"  # Zhang et al. 2019: alternate unit length and centering until both hold


class InitMethod(str, Enum):
    """How the first map is found, before refinement."""

    ADVERSARIAL = "adversarial"  # MUSE: a linear map trained to fool a discriminator
    VECMAP = "vecmap"  # VecMap: similarity-distribution init + stochastic self-learning
    # VecMap `--identical`: words spelled the same in both languages seed the same stochastic
    # self-learning. Uses no bilingual dictionary, but assumes the two languages share a script
    # (see `OrthographicConfig`); with different scripts there is no seed and the run is skipped.
    IDENTICAL = "identical"
    # Gromov–Wasserstein matching of intra-language distances (Alvarez-Melis & Jaakkola 2018)
    GROMOV = "gromov"


class Direction(str, Enum):
    """Which side's nearest neighbours make up an induced dictionary."""

    S2T = "s2t"  # every source word with its best target
    T2S = "t2s"  # every target word with its best source
    UNION = "union"  # both lists concatenated (VecMap)
    MUTUAL = "mutual"  # pairs found in both directions (MUSE 'S2T&T2S')


class Retrieval(str, Enum):
    """Similarity used to rank candidate translations."""

    NN = "nn"  # cosine
    CSLS = "csls"  # cross-domain similarity local scaling (Conneau et al. 2018)


class MappingSolver(str, Enum):
    """How a map is fitted to a dictionary."""

    ORTHOGONAL = "orthogonal"  # Procrustes: source map orthogonal, target untouched
    # VecMap's multi-step mapping: whitening, orthogonal map, re-weighting, de-whitening;
    # maps both sides, so the result is no longer an isometry.
    WHITEN_REWEIGHT = "whiten_reweight"


class Dewhiten(str, Enum):
    """Whose whitening a side is de-whitened with (VecMap `--src_dewhiten/--trg_dewhiten`)."""

    NONE = "none"
    SRC = "src"
    TGT = "tgt"


class RetrievalConfig(_Frozen):
    """Nearest-neighbour search shared by induction, criterion and evaluation."""

    csls_k: int = Field(10, ge=1)  # neighbourhood size of the CSLS penalty (MUSE csls_knn_10)
    use_faiss: bool = True  # faiss IndexFlatIP on CPU; False = exact torch on the given device
    batch_size: int = Field(4096, ge=1)  # query rows per similarity block (memory bound)
    cache_mb: int = Field(1024, ge=0)  # similarity blocks up to this size are kept instead of recomputed


class AdversarialConfig(_Frozen):
    """MUSE adversarial training (`unsupervised.py` defaults)."""

    map_id_init: bool = True  # start from the identity map
    map_beta: float = Field(0.001, ge=0.0)  # orthogonalisation W <- (1+b)W - b W W^T W after each map step
    dis_layers: int = Field(2, ge=0)  # hidden layers of the discriminator
    dis_hid_dim: int = Field(2048, ge=1)  # hidden width of the discriminator
    dis_dropout: float = Field(0.0, ge=0.0, lt=1.0)  # dropout between hidden layers
    dis_input_dropout: float = Field(0.1, ge=0.0, lt=1.0)  # dropout on the embeddings fed to the discriminator
    dis_leaky_slope: float = Field(0.2, ge=0.0)  # LeakyReLU negative slope
    dis_steps: int = Field(5, ge=1)  # discriminator steps per mapping step
    dis_lambda: float = Field(1.0, ge=0.0)  # weight of the adversarial loss on the map
    dis_most_frequent: int = Field(75000, ge=0)  # draw only the most frequent words (0 = all); clamped to vocab
    dis_smooth: float = Field(0.1, ge=0.0, lt=0.5)  # label smoothing: targets 1-s (mapped source) and s (target)
    dis_clip_weights: float = Field(0.0, ge=0.0)  # clip discriminator weights to [-c, c] (0 = off)
    n_epochs: int = Field(5, ge=1)  # epochs; the criterion is measured after each one
    epoch_size: int = Field(1_000_000, ge=1)  # words per epoch (source and target each)
    batch_size: int = Field(32, ge=1)  # words per side per step
    map_lr: float = Field(0.1, gt=0.0)  # SGD learning rate of the map
    dis_lr: float = Field(0.1, gt=0.0)  # SGD learning rate of the discriminator
    lr_decay: float = Field(0.98, gt=0.0, le=1.0)  # map learning rate factor after each epoch
    min_lr: float = Field(1e-6, ge=0.0)  # floor of the map learning rate
    lr_shrink: float = Field(0.5, gt=0.0, le=1.0)  # extra factor when the criterion drops a second time


class VecMapConfig(_Frozen):
    """VecMap fully unsupervised mapping (Artetxe et al. 2018, ACL; `--unsupervised` defaults)."""

    init_vocab: int = Field(4000, ge=2)  # most frequent words whose similarity distributions seed the dictionary
    vocabulary_cutoff: int = Field(20000, ge=2)  # most frequent words used in self-learning; clamped to vocab
    direction: Direction = Direction.UNION  # dictionary built from both directions
    stochastic_initial: float = Field(0.1, gt=0.0, le=1.0)  # initial keep probability of similarity entries
    stochastic_multiplier: float = Field(2.0, gt=1.0)  # keep probability factor after a stall
    stochastic_interval: int = Field(50, ge=1)  # iterations without improvement that count as a stall
    threshold: float = Field(1e-6, ge=0.0)  # smallest objective gain that counts as improvement
    max_iterations: int = Field(2000, ge=1)  # safety cap on self-learning iterations (not in VecMap)
    # Weight of a penalty |log(1 + rank_src) - log(1 + rank_tgt)| on the similarities behind
    # the initial and self-learned dictionaries (not in VecMap, 0 = off): in comparable corpora
    # translations have similar frequency ranks, a cue that survives when small corpora make
    # similarity distributions noisy.
    frequency_prior: float = Field(0.0, ge=0.0)
    final_solver: MappingSolver = MappingSolver.WHITEN_REWEIGHT  # mapping fitted on the last dictionary
    # Not in VecMap: score only a random share keep_prob of the candidates, drawn per block of
    # `sample_block_rows` rows, instead of dropping entries of the full similarity matrix, so
    # an iteration costs about keep_prob of a full one; the CSLS penalties and the objective
    # are then refreshed by a full pass every `penalty_interval` iterations.
    sampled_induction: bool = False
    sample_block_rows: int = Field(64, ge=1)
    penalty_interval: int = Field(5, ge=1)


class GromovConfig(_Frozen):
    """Entropic Gromov–Wasserstein initialisation (POT's `entropic_gromov_wasserstein`)."""

    words: int = Field(2000, ge=2)  # most frequent words of each side that are coupled
    # compare distances in the leading `dims` dimensions only (None: all; the mapping stage sets it to
    # the first part of vectors made of parts, fastText's before the count vectors: GW found no
    # usable coupling in the whole of them, see the quick preset)
    dims: int | None = Field(None, ge=1)
    epsilon: float = Field(5e-4, gt=0.0)  # entropic regularisation of the coupling
    max_iterations: int = Field(1000, ge=1)
    tolerance: float = Field(1e-9, ge=0.0)


class OrthographicConfig(_Frozen):
    """Seed of identically spelled words for `InitMethod.IDENTICAL` (VecMap `--init_identical`).

    Assumption, not a dictionary: both languages are written in the same script, so shared
    names, numbers, punctuation and loanwords are spelled alike and mostly mean the same.
    """

    min_length: int = Field(1, ge=1)  # shorter words are left out (1 = every identical string, as VecMap)
    fold_accents: bool = False  # match after removing diacritics ('jesús' = 'jesus'); not in VecMap
    # Fewer identical words than this (e.g. languages in different scripts) is not a seed:
    # the run raises `NoSeedError` and a sweep goes on without it.
    min_pairs: int = Field(20, ge=1)


class WhitenReweightConfig(_Frozen):
    """VecMap's multi-step mapping (used when a solver is `WHITEN_REWEIGHT`)."""

    src_reweight: float = 0.5  # exponent of the singular values applied to the source side
    tgt_reweight: float = 0.5  # exponent of the singular values applied to the target side
    src_dewhiten: Dewhiten = Dewhiten.SRC
    tgt_dewhiten: Dewhiten = Dewhiten.TGT


class RefineConfig(_Frozen):
    """MUSE refinement: Procrustes on a dictionary of mutual CSLS nearest neighbours, repeated."""

    n_refinement: int = Field(5, ge=0)  # refinement iterations
    retrieval: Retrieval = Retrieval.CSLS  # MUSE dico_method csls_knn_10
    direction: Direction = Direction.MUTUAL  # MUSE dico_build 'S2T&T2S'
    max_rank: int = Field(15000, ge=1)  # only the most frequent words of each side enter the dictionary
    # Candidates, CSLS penalties and the criterion are searched among this many most frequent words
    # of each side (not in MUSE, which searches everything on a GPU): a cost cap for Wikipedia-sized
    # vocabularies that changes nothing below it.
    search_words: int = Field(50_000, ge=1)
    min_size: int = Field(1, ge=1)  # fewer induced pairs than this is a failure, not a map
    # Frequency-rank penalty on induction scores, as VecMapConfig.frequency_prior (0 = MUSE).
    frequency_prior: float = Field(0.0, ge=0.0)
    # Stop before n_refinement when the criterion gains less than this in one step (None = never).
    min_gain: float | None = None
    solver: MappingSolver = MappingSolver.ORTHOGONAL


class CriterionKind(str, Enum):
    """What the unsupervised model-selection criterion measures (higher is better for both)."""

    # MUSE 'mean_cosine': mean cosine between the n most frequent source words and their translations.
    MEAN_COSINE = "mean_cosine"
    # Share of the n most frequent source words whose translation translates back to them
    # (mutual nearest neighbours): a cycle-consistency check, insensitive to the cosine scale.
    MUTUAL_NN = "mutual_nn"


class CriterionConfig(_Frozen):
    """Unsupervised model-selection criterion; the default is MUSE's 'mean_cosine-csls_knn_10-S2T-10000'."""

    kind: CriterionKind = CriterionKind.MEAN_COSINE
    n_most_frequent: int = Field(10000, ge=1)  # source words translated; clamped to vocab
    retrieval: Retrieval = Retrieval.CSLS


class EvaluationConfig(_Frozen):
    """Word-translation precision on a test dictionary."""

    ks: tuple[int, ...] = (1, 5, 10)  # P@k reported
    # Upper bounds (exclusive) of the source-frequency-rank buckets of P@1; the last bucket is open.
    frequency_buckets: tuple[int, ...] = (1000, 2000, 5000)
    # Queries and candidates are the this-many most frequent words of each side; pairs with a word
    # beyond are left out (counted as not in the vocabulary). MUSE retrieves among all 200k words
    # on a GPU; on a CPU every CSLS evaluation of 200k x 200k words costs minutes. Nothing changes
    # below it.
    search_words: int = Field(50_000, ge=1)


class AlignConfig(_Frozen):
    """The whole mapping stage."""

    # VecMap's initialisation is the default because MUSE's adversary collapses on small corpora
    # (DESIGN.md section 6); `InitMethod.ADVERSARIAL` gives MUSE as published.
    method: InitMethod = InitMethod.VECMAP
    normalization: Normalization = Normalization.UNIT_CENTER_UNIT
    min_vocab: int = Field(100, ge=2)  # smaller vocabularies are refused: no distribution to match
    # The initial map (adversarial, VecMap, Gromov–Wasserstein) is found between the spaces reduced
    # to this many principal components (None = full; Hoshen & Wolf 2018 use 50); its dictionary
    # then seeds an orthogonal map of the full spaces, which refinement takes from there.
    init_dim: int | None = Field(None, ge=2)
    # A seed dictionary (identical spellings, Gromov–Wasserstein matches) goes through VecMap's
    # self-learning before refinement (VecMap --init_identical); False fits Procrustes on it and
    # hands that to refinement (MUSE's route), which makes IDENTICAL deterministic.
    seeded_self_learning: bool = True
    retrieval: RetrievalConfig = RetrievalConfig()
    adversarial: AdversarialConfig = AdversarialConfig()
    vecmap: VecMapConfig = VecMapConfig()
    orthographic: OrthographicConfig = OrthographicConfig()
    gromov: GromovConfig = GromovConfig()
    whiten_reweight: WhitenReweightConfig = WhitenReweightConfig()
    refine: RefineConfig = RefineConfig()
    criterion: CriterionConfig = CriterionConfig()
    evaluation: EvaluationConfig = EvaluationConfig()



class AlignStageConfig(_Frozen):
    """The mapping stage: the algorithm's settings and the sweep the criterion chooses from."""

    align: AlignConfig = AlignConfig()
    # Initialisations tried. IDENTICAL uses no dictionary but assumes a shared script (identical
    # spellings seed the map); on pairs without one its runs are skipped and VECMAP remains.
    methods: tuple[InitMethod, ...] = (InitMethod.VECMAP, InitMethod.IDENTICAL)
    seeds: tuple[int, ...] = Field((0, 1, 2), min_length=1)  # one run per (method, seed); see plan()
    # Alignments (runs and reference rows) in flight at once: each holds both spaces and its
    # similarity blocks (about 1.5 GB at 200k words a side), so this bounds the stage's memory.
    parallel_runs: int = Field(4, ge=1)
    references: bool = True                                   # supervised / identical / copy rows
    device: DeviceRequest = "auto"

    def plan(self) -> list[tuple[InitMethod, int]]:
        """The (method, seed) runs of the sweep: a method that no seed changes runs once (first seed)."""
        deterministic = {InitMethod.IDENTICAL} if not self.align.seeded_self_learning else set()
        return [(m, s) for m in self.methods for s in (self.seeds[:1] if m in deterministic else self.seeds)]
