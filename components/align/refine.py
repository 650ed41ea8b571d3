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
from components.align.criterion import criterion_from_links
from components.align.procrustes import fit_mapping
from components.align.retrieval import NearestLinks, dictionary_from_links, nearest_both_ways
from components.align.state import HistoryPoint, LinearMaps, Progress, ProgressCallback, Stage


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
    `max_rank` most frequent words of each side enter the dictionary (MUSE dico_max_rank).
    Returns (src_idx (p,), tgt_idx (p,)) long tensors.
    """
    return dictionary_from_links(nearest_both_ways(src_mapped, tgt, retrieval, config), direction, max_rank)


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
    induces a dictionary from the current maps (searching the `config.search_words` most
    frequent words of each side) and fits new maps on it. Step 0 of the
    returned history is the starting map. Stops early when a dictionary comes out smaller
    than `config.min_size`, or when a step gains less than `config.min_gain`. Returns the
    refined maps with the highest criterion; the starting map only competes when no
    refinement step ran, because a map from another solver (e.g. VecMap's whitening and
    re-weighting) changes the cosine scale and the criterion with it.
    """

    def measure(maps: LinearMaps) -> tuple[float, NearestLinks]:
        # One pass of similarities serves both the criterion and the next dictionary.
        xm, zm = maps.apply(x[: config.search_words], z[: config.search_words])
        links = nearest_both_ways(xm, zm, criterion.retrieval, retrieval)
        if config.retrieval is not criterion.retrieval or config.frequency_prior > 0:
            induction = nearest_both_ways(
                xm, zm, config.retrieval, retrieval, frequency_prior=config.frequency_prior
            )
            return criterion_from_links(links, criterion), induction
        return criterion_from_links(links, criterion), links

    value, links = measure(maps)
    history = [HistoryPoint(Stage.REFINE, 0, value)]
    best_maps, best_value = maps, value
    if progress_callback is not None:
        progress_callback(Progress(history[0], maps))
    for step in range(1, config.n_refinement + 1):
        src_idx, tgt_idx = dictionary_from_links(links, config.direction, config.max_rank)
        if src_idx.numel() < config.min_size:
            break
        maps = LinearMaps(*fit_mapping(x, z, src_idx, tgt_idx, config.solver, whiten_config))
        value, links = measure(maps)
        point = HistoryPoint(Stage.REFINE, step, value, float(src_idx.numel()))
        history.append(point)
        if progress_callback is not None:
            progress_callback(Progress(point, maps))
        gain = value - history[-2].criterion
        if value > best_value or step == 1:
            best_maps, best_value = maps, value
        if config.min_gain is not None and gain < config.min_gain:
            break
    return best_maps, history
