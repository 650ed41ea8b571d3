"""Refinement: dictionary induction from the current map and Procrustes on it, repeated (MUSE)."""
from __future__ import annotations

import torch

from components.align.config import (
    CriterionConfig,
    Direction,
    RefineConfig,
    Retrieval,
    RetrievalConfig,
    WhitenReweightConfig,
)
from components.align.criterion import mean_cosine_criterion
from components.align.procrustes import fit_mapping
from components.align.retrieval import translate
from components.align.state import HistoryPoint, LinearMaps, Progress, ProgressCallback, Stage


def _best_pairs(query: torch.Tensor, keys: torch.Tensor, retrieval: Retrieval, config: RetrievalConfig,
                max_rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Best key of each of the first `max_rank` query rows, dropping keys ranked beyond `max_rank`."""
    rows = torch.arange(min(max_rank, query.shape[0]), device=query.device)
    _, best = translate(query, keys, 1, retrieval, config, rows=rows)
    cols = best[:, 0]
    keep = cols < max_rank
    return rows[keep], cols[keep]


def induce_dictionary(
    src_mapped: torch.Tensor,
    tgt: torch.Tensor,
    retrieval: Retrieval,
    direction: Direction,
    max_rank: int,
    config: RetrievalConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dictionary of nearest neighbours between two aligned spaces.

    src_mapped: (n_src, d), tgt: (n_tgt, d), unit length, most frequent first. Only the
    `max_rank` most frequent words of each side take part (MUSE dico_max_rank).
    Returns (src_idx (p,), tgt_idx (p,)) long tensors, sorted by source index for MUTUAL.
    """
    empty = torch.empty(0, dtype=torch.long, device=src_mapped.device)
    s2t = _best_pairs(src_mapped, tgt, retrieval, config, max_rank) if direction is not Direction.T2S else (empty, empty)
    if direction is Direction.S2T:
        return s2t
    t_rows, s_cols = _best_pairs(tgt, src_mapped, retrieval, config, max_rank)
    t2s = (s_cols, t_rows)
    if direction is Direction.T2S:
        return t2s
    if direction is Direction.UNION:
        return torch.cat([s2t[0], t2s[0]]), torch.cat([s2t[1], t2s[1]])
    # Mutual: a pair counts when each word is the other's best match.
    n_tgt = tgt.shape[0]
    keys_s2t = s2t[0] * n_tgt + s2t[1]
    keys_t2s = t2s[0] * n_tgt + t2s[1]
    keep = torch.isin(keys_s2t, keys_t2s)
    return s2t[0][keep], s2t[1][keep]


def refine(
    x: torch.Tensor,
    z: torch.Tensor,
    maps: LinearMaps,
    config: RefineConfig,
    whiten_config: WhitenReweightConfig,
    criterion: CriterionConfig,
    retrieval: RetrievalConfig,
    progress_callback: ProgressCallback | None = None,
) -> tuple[LinearMaps, list[HistoryPoint]]:
    """Iterative Procrustes refinement (MUSE), keeping the map with the best criterion.

    x: (n_src, d), z: (n_tgt, d) normalised embeddings; maps: starting maps. Each iteration
    induces a dictionary from the current maps and fits new maps on it. Step 0 of the
    returned history is the starting map. Stops early when a dictionary comes out smaller than
    `config.min_size`. Returns the maps with the highest criterion among all steps.
    """
    history = [HistoryPoint(Stage.REFINE, 0, mean_cosine_criterion(*maps.apply(x, z), criterion, retrieval))]
    best_maps, best_value = maps, history[0].criterion
    if progress_callback is not None:
        progress_callback(Progress(history[0], maps))
    for step in range(1, config.n_refinement + 1):
        src_idx, tgt_idx = induce_dictionary(
            *maps.apply(x, z), config.retrieval, config.direction, config.max_rank, retrieval
        )
        if src_idx.numel() < config.min_size:
            break
        maps = LinearMaps(*fit_mapping(x, z, src_idx, tgt_idx, config.solver, whiten_config))
        value = mean_cosine_criterion(*maps.apply(x, z), criterion, retrieval)
        point = HistoryPoint(Stage.REFINE, step, value, float(src_idx.numel()))
        history.append(point)
        if progress_callback is not None:
            progress_callback(Progress(point, maps))
        if value > best_value:
            best_maps, best_value = maps, value
    return best_maps, history
