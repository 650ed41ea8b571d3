"""The mapping stage end to end: checks, normalisation, initial map, refinement, selection.

`align` is the unsupervised method; `align_supervised`, `align_identical_strings` and
`evaluate_copy` (in `evaluate`) give the reference rows, computed by the same code.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from components.align.adversarial import adversarial_training
from components.align.config import AlignConfig, InitMethod, MappingSolver
from components.align.evaluate import EvaluationReport, Pairs, word_translation_precision
from components.align.gromov import coupling_dictionary, gromov_coupling
from components.align.normalize import normalize, principal_components
from components.align.orthographic import NoSeedError, orthographic_seed
from components.align.procrustes import fit_mapping
from components.align.refine import induce_dictionary, refine
from components.align.state import HistoryPoint, LinearMaps, ProgressCallback, Stage
from components.align.vecmap import vecmap_self_learning
from components.embeddings import Embeddings
from components.errors import InputError


@dataclass(frozen=True)
class AlignResult:
    """Outcome of one alignment run.

    maps: w_src (d, d') and w_tgt (d, d') applied to the *normalised* input embeddings.
    history: every measurement in order (initialisation stage, then refinement steps).
    criterion: MUSE's unsupervised criterion of the returned maps, measured after refinement
    (after step 0 only when no refinement ran), so results of different methods and seeds
    compare on it.
    src, tgt: both vocabularies in the shared space, unit length (what retrieval uses).
    """

    method: str
    seed: int
    maps: LinearMaps
    history: list[HistoryPoint]
    criterion: float
    src: Embeddings
    tgt: Embeddings
    seconds: float

    @property
    def w(self) -> np.ndarray:
        """The source map (d, d'), as a float32 array."""
        return self.maps.w_src.detach().cpu().numpy().astype(np.float32)


def check_embeddings(emb: Embeddings, name: str, min_vocab: int) -> None:
    """Raise InputError naming `name` unless `emb` is a usable (n >= min_vocab, d) finite space."""
    vectors = np.asarray(emb.vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(emb.words):
        raise InputError(name, f"vectors of shape {vectors.shape} do not match {len(emb.words)} words")
    if len(emb.words) < min_vocab:
        raise InputError(name, f"vocabulary of {len(emb.words)} words is too small (need at least {min_vocab})")
    if len(set(emb.words)) != len(emb.words):
        seen: set[str] = set()
        dup = next(w for w in emb.words if w in seen or seen.add(w))
        raise InputError(name, f"duplicate word {dup!r}")
    if not np.isfinite(vectors).all():
        row = int(np.flatnonzero(~np.isfinite(vectors).all(axis=1))[0])
        raise InputError(name, f"non-finite value in the vector of {emb.words[row]!r}")


def prepare_spaces(
    src: Embeddings,
    tgt: Embeddings,
    config: AlignConfig,
    device: torch.device,
    src_name: str = "source embeddings",
    tgt_name: str = "target embeddings",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Check both spaces and return them normalised on `device`: x (n_src, d), z (n_tgt, d) float32."""
    check_embeddings(src, src_name, config.min_vocab)
    check_embeddings(tgt, tgt_name, config.min_vocab)
    if src.dim != tgt.dim:
        raise InputError(
            f"{src_name} / {tgt_name}", f"dimensions differ: {src.dim} (source) vs {tgt.dim} (target)"
        )
    x = torch.as_tensor(np.asarray(src.vectors, dtype=np.float32), device=device)
    z = torch.as_tensor(np.asarray(tgt.vectors, dtype=np.float32), device=device)
    return normalize(x, config.normalization), normalize(z, config.normalization)


def _result(
    method: str,
    seed: int,
    maps: LinearMaps,
    history: list[HistoryPoint],
    x: torch.Tensor,
    z: torch.Tensor,
    src: Embeddings,
    tgt: Embeddings,
    started: float,
) -> AlignResult:
    refined = [p.criterion for p in history if p.stage is Stage.REFINE and p.criterion is not None]
    if len(refined) > 1:
        refined = refined[1:]  # step 0 is the starting map, which does not compete (see `refine`)
    xm, zm = maps.apply(x, z)
    return AlignResult(
        method=method,
        seed=seed,
        maps=maps,
        history=history,
        criterion=max(refined),
        src=Embeddings(list(src.words), xm.cpu().numpy()),
        tgt=Embeddings(list(tgt.words), zm.cpu().numpy()),
        seconds=time.monotonic() - started,
    )


def seed_map(x: torch.Tensor, z: torch.Tensor, dictionary: tuple[torch.Tensor, torch.Tensor],
             config: AlignConfig) -> tuple[LinearMaps, HistoryPoint]:
    """Orthogonal (Procrustes) maps fitted on a seed dictionary (src_idx (p,), tgt_idx (p,)) of
    x (n_src, d) and z (n_tgt, d), and the history point that records its size."""
    maps = LinearMaps(*fit_mapping(x, z, *dictionary, MappingSolver.ORTHOGONAL, config.whiten_reweight))
    return maps, HistoryPoint(Stage.SEED, 0, None, float(dictionary[0].numel()))


def align(
    src: Embeddings,
    tgt: Embeddings,
    config: AlignConfig,
    device: torch.device,
    seed: int,
    progress_callback: ProgressCallback | None = None,
    *,
    src_name: str = "source embeddings",
    tgt_name: str = "target embeddings",
) -> AlignResult:
    """Unsupervised alignment of `src` onto `tgt`: normalise, initial map (`config.method`),
    refine, and return the maps with the best unsupervised criterion.

    src, tgt: vocabularies most frequent first, vectors (n, d) of the same d. No dictionary
    is used (`InitMethod.IDENTICAL` seeds on identical spellings: a shared-script assumption).
    `progress_callback` receives every history point with its maps (e.g. to plot test P@1
    beside the criterion without letting it steer anything).
    Raises InputError (naming src_name / tgt_name) for unusable embeddings, NoSeedError
    (an InputError) when `InitMethod.IDENTICAL` finds too few identical strings.
    """
    started = time.monotonic()
    x, z = prepare_spaces(src, tgt, config, device, src_name, tgt_name)
    reduce = config.init_dim is not None and config.method is not InitMethod.IDENTICAL
    xi, zi = (principal_components(x, config.init_dim), principal_components(z, config.init_dim)) if reduce else (x, z)
    if config.method is InitMethod.ADVERSARIAL:
        maps, history = adversarial_training(
            xi, zi, config.adversarial, config.criterion, config.retrieval, seed, None if reduce else progress_callback,
            search_words=config.refine.search_words,
        )
    else:
        init = None
        if config.method is InitMethod.IDENTICAL:
            seed_pairs = orthographic_seed(src.words, tgt.words, config.orthographic, f"{src_name} / {tgt_name}")
            src_idx, tgt_idx = seed_pairs
            init = (torch.tensor(src_idx, device=device), torch.tensor(tgt_idx, device=device))
        elif config.method is InitMethod.GROMOV:
            coupling, _ = gromov_coupling(xi, zi, config.gromov, seed=seed)
            init = coupling_dictionary(coupling, device)
        if init is not None and not config.seeded_self_learning:  # the seed dictionary goes to refinement
            maps, point = seed_map(xi, zi, init, config)
            history = [point]
        else:
            maps, history = vecmap_self_learning(
                xi, zi, config.vecmap, config.whiten_reweight, config.normalization, config.retrieval, seed,
                None if reduce else progress_callback, init_dictionary=init,
            )
    if reduce:  # the reduced map's dictionary seeds the full spaces' map
        induced = induce_dictionary(*maps.apply(xi, zi), config.refine.retrieval, config.refine.direction,
                                    config.refine.max_rank, config.retrieval)
        maps, point = seed_map(x, z, induced, config)
        history.append(point)
    maps, refine_history = refine(
        x, z, maps, config.refine, config.whiten_reweight, config.criterion, config.retrieval, progress_callback
    )
    return _result(config.method.value, seed, maps, history + refine_history, x, z, src, tgt, started)


def dictionary_indices(
    pairs: Pairs, src: Embeddings, tgt: Embeddings, source: object = "seed dictionary"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Index pairs (src_idx (p,), tgt_idx (p,)) of the dictionary pairs found in both vocabularies.

    Raises InputError naming `source` when there is none.
    """
    s_index, t_index = src.index(), tgt.index()
    found = [(s_index[s], t_index[t]) for s, t in pairs if s in s_index and t in t_index]
    if not found:
        raise InputError(source, f"none of its {len(pairs)} pairs has both words in the vocabularies")
    idx = torch.tensor(found, dtype=torch.long)
    return idx[:, 0], idx[:, 1]


def align_supervised(
    src: Embeddings,
    tgt: Embeddings,
    pairs: Pairs,
    config: AlignConfig,
    device: torch.device,
    refinement: bool = True,
    *,
    method: str = "procrustes_seed",
    dictionary_name: str = "seed dictionary",
) -> AlignResult:
    """Reference row: Procrustes on a seed dictionary, then (if `refinement`) the same refinement
    as the unsupervised pipeline. pairs: (source word, target word), several targets allowed.

    Raises InputError naming `dictionary_name` when no pair is in both vocabularies.
    """
    started = time.monotonic()
    x, z = prepare_spaces(src, tgt, config, device)
    src_idx, tgt_idx = dictionary_indices(pairs, src, tgt, dictionary_name)
    src_idx, tgt_idx = src_idx.to(device), tgt_idx.to(device)
    maps, seed_point = seed_map(x, z, (src_idx, tgt_idx), config)
    refine_config = config.refine if refinement else config.refine.model_copy(update={"n_refinement": 0})
    maps, history = refine(
        x, z, maps, refine_config, config.whiten_reweight, config.criterion, config.retrieval
    )
    return _result(method, 0, maps, [seed_point, *history], x, z, src, tgt, started)


def identical_strings(src: Embeddings, tgt: Embeddings) -> list[tuple[str, str]]:
    """Seed dictionary of the words spelled the same in both vocabularies, as (word, word) pairs."""
    tgt_words = set(tgt.words)
    return [(w, w) for w in src.words if w in tgt_words]


def align_identical_strings(
    src: Embeddings, tgt: Embeddings, config: AlignConfig, device: torch.device
) -> AlignResult:
    """Reference row: identical spellings as the seed dictionary, then refinement.

    Raises NoSeedError when no word is spelled the same in both vocabularies.
    """
    pairs = identical_strings(src, tgt)
    if not pairs:
        raise NoSeedError("source/target embeddings", "no word is spelled the same in both vocabularies")
    return align_supervised(
        src, tgt, pairs, config, device, method="identical_strings", dictionary_name="identical strings"
    )


def evaluate_result(
    result: AlignResult,
    pairs: Pairs,
    config: AlignConfig,
    device: torch.device,
    source: object = "test dictionary",
) -> EvaluationReport:
    """Evaluate an `AlignResult` on a dictionary (for reports only, never for selection)."""
    src = torch.as_tensor(result.src.vectors, device=device)
    tgt = torch.as_tensor(result.tgt.vectors, device=device)
    return word_translation_precision(
        src, tgt, result.src.words, result.tgt.words, pairs, config.evaluation, config.retrieval, source
    )


def select_best(results: Sequence[AlignResult]) -> AlignResult:
    """The result with the highest unsupervised criterion (ties: the first)."""
    if not results:
        raise ValueError("no alignment results to select from")
    return max(results, key=lambda r: r.criterion)
