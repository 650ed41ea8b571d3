"""VecMap's fully unsupervised mapping (Artetxe, Labaka & Agirre 2018, ACL, "A robust
self-learning method for fully unsupervised cross-lingual mappings of word embeddings").

1. Similarity-distribution initialisation: words are matched across languages by the
   sorted distribution of their similarities to the rest of their own vocabulary, which is
   (nearly) invariant to the unknown rotation between the spaces.
2. Self-learning: alternate an orthogonal map fitted on the dictionary with a new
   dictionary induced by CSLS nearest neighbours, in both directions.
3. Stochastic dictionary induction: similarity entries are dropped at random with
   probability 1 - p; p starts small and doubles whenever the objective stalls, so early
   iterations explore instead of locking into the first poor local optimum.
4. A last, non-orthogonal mapping (whitening, re-weighting, de-whitening) fitted on the
   final dictionary.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from components.align.config import (
    Direction,
    Normalization,
    Retrieval,
    RetrievalConfig,
    VecMapConfig,
    WhitenReweightConfig,
)
from components.align.normalize import normalize
from components.align.procrustes import fit_mapping, procrustes
from components.align.retrieval import (
    dictionary_from_links,
    links_from_scores,
    nearest_both_ways,
    sampled_nearest,
)
from components.align.state import HistoryPoint, LinearMaps, Progress, ProgressCallback, Stage


def similarity_distribution_init(
    x: torch.Tensor,
    z: torch.Tensor,
    config: VecMapConfig,
    normalization: Normalization,
    retrieval: RetrievalConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Initial dictionary from intra-lingual similarity distributions.

    x: (n_src, d), z: (n_tgt, d) normalised embeddings, most frequent first. Uses the
    `config.init_vocab` most frequent words of each side: each word is described by its
    sorted row of sqrt(M M^T) (M = its space's embeddings), rows are normalised like the
    embeddings and matched by CSLS, after subtracting `config.frequency_prior` times the
    distance in log frequency rank. Returns (src_idx (p,), tgt_idx (p,)).
    """
    n = min(config.init_vocab, x.shape[0], z.shape[0])

    def sorted_similarity(m: torch.Tensor) -> torch.Tensor:
        # sqrt(M M^T) = U S U^T: the square root spreads the similarity values so that
        # their sorted profile discriminates words better than the raw cosines (VecMap).
        u, s, _ = torch.linalg.svd(m.double(), full_matrices=False)
        sim = (u * s) @ u.T
        return normalize(sim.sort(dim=1).values.to(m.dtype), normalization)

    scores = sorted_similarity(x[:n]) @ sorted_similarity(z[:n]).T
    if config.frequency_prior > 0:
        # Rows are frequency ranks: penalise pairs far apart in log rank.
        log_rank = torch.log1p(torch.arange(n, device=x.device, dtype=x.dtype))
        scores -= config.frequency_prior * (log_rank[:, None] - log_rank[None, :]).abs()
    return dictionary_from_links(links_from_scores(scores, Retrieval.CSLS, retrieval.csls_k), config.direction)


class Induction(NamedTuple):
    """A dictionary induced by CSLS: pairs, VecMap's objective, and the CSLS penalties."""

    src_idx: torch.Tensor                          # (p,) source word indices
    tgt_idx: torch.Tensor                          # (p,) target word indices
    objective: float                               # mean best (unperturbed) cosine, as in VecMap
    penalties: tuple[torch.Tensor, torch.Tensor]   # r_src (n,), r_tgt (m,): reused by sampled induction


def stochastic_dictionary(
    xw: torch.Tensor,
    zw: torch.Tensor,
    keep_prob: float,
    config: VecMapConfig,
    retrieval: RetrievalConfig,
    generator: torch.Generator,
) -> Induction:
    """Dictionary induced by CSLS with each similarity entry kept with probability `keep_prob`.

    xw: (n_src, d) mapped source, zw: (n_tgt, d) target, both restricted to the vocabulary
    cutoff. The objective is over the direction(s) in use. Dropped entries can never be
    chosen (VecMap zeroes them, which lets a dropped entry beat negative scores).
    """
    links = nearest_both_ways(xw, zw, Retrieval.CSLS, retrieval, keep_prob, generator, config.frequency_prior)
    objective = {
        Direction.S2T: float(links.max_s2t_cos.mean()),
        Direction.T2S: float(links.max_t2s_cos.mean()),
    }.get(config.direction, float(links.max_s2t_cos.mean() + links.max_t2s_cos.mean()) / 2)
    src_idx, tgt_idx = dictionary_from_links(links, config.direction)
    return Induction(src_idx, tgt_idx, objective, (links.r_src, links.r_tgt))


def sampled_dictionary(
    xw: torch.Tensor,
    zw: torch.Tensor,
    penalties: tuple[torch.Tensor, torch.Tensor],
    keep_prob: float,
    config: VecMapConfig,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dictionary induced by CSLS among sampled candidates (see `sampled_nearest`).

    xw: (n_src, d), zw: (n_tgt, d); penalties: (r_src (n_src,), r_tgt (n_tgt,)) from a recent
    full pass. Returns (src_idx (p,), tgt_idx (p,)) in `config.direction`, MUTUAL counting as
    UNION (words drawing different candidates rarely agree both ways).
    """
    r_src, r_tgt = penalties
    src_all = torch.arange(xw.shape[0], device=xw.device)
    tgt_all = torch.arange(zw.shape[0], device=zw.device)
    fwd = bwd = None
    if config.direction is not Direction.T2S:
        fwd = sampled_nearest(xw, zw, r_tgt, keep_prob, generator, config.sample_block_rows, config.frequency_prior)
    if config.direction is not Direction.S2T:
        bwd = sampled_nearest(zw, xw, r_src, keep_prob, generator, config.sample_block_rows, config.frequency_prior)
    if fwd is None:
        return bwd, tgt_all
    if bwd is None:
        return src_all, fwd
    return torch.cat([src_all, bwd]), torch.cat([fwd, tgt_all])


def vecmap_self_learning(
    x: torch.Tensor,
    z: torch.Tensor,
    config: VecMapConfig,
    whiten_config: WhitenReweightConfig,
    normalization: Normalization,
    retrieval: RetrievalConfig,
    seed: int,
    progress_callback: ProgressCallback | None = None,
    init_dictionary: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[LinearMaps, list[HistoryPoint]]:
    """Unsupervised VecMap: initial dictionary, stochastic self-learning, final mapping.

    x: (n_src, d), z: (n_tgt, d) normalised embeddings, most frequent first.
    init_dictionary: (src_idx (p,), tgt_idx (p,)) to start from instead of the
    similarity-distribution initialisation.
    Returns the maps (w_src, w_tgt) and one history point per self-learning iteration
    (objective = VecMap's mean best similarity, None on sampled iterations; criterion left
    unmeasured).
    """
    generator = torch.Generator(device=x.device)
    generator.manual_seed(seed)
    n_src = min(config.vocabulary_cutoff, x.shape[0])
    n_tgt = min(config.vocabulary_cutoff, z.shape[0])
    if init_dictionary is None:
        src_idx, tgt_idx = similarity_distribution_init(x, z, config, normalization, retrieval)
    else:
        src_idx, tgt_idx = init_dictionary
    history: list[HistoryPoint] = []
    penalties: tuple[torch.Tensor, torch.Tensor] | None = None
    best_objective = float("-inf")
    keep_prob = config.stochastic_initial
    last_improvement = 0
    it = 1
    while True:
        if it - last_improvement > config.stochastic_interval:
            if keep_prob >= 1.0:
                break
            keep_prob = min(1.0, config.stochastic_multiplier * keep_prob)
            last_improvement = it
        if it > config.max_iterations:
            break
        w = procrustes(x[src_idx], z[tgt_idx])
        xw, zw = x[:n_src] @ w, z[:n_tgt]
        sampled = config.sampled_induction and keep_prob < 1.0 and penalties is not None
        if sampled and it % config.penalty_interval != 0:
            src_idx, tgt_idx = sampled_dictionary(xw, zw, penalties, keep_prob, config, generator)
            objective = None
        else:
            src_idx, tgt_idx, objective, penalties = stochastic_dictionary(xw, zw, keep_prob, config, retrieval,
                                                                            generator)
            if objective - best_objective >= config.threshold:
                last_improvement = it
                best_objective = objective
        point = HistoryPoint(Stage.VECMAP, it, None, objective)
        history.append(point)
        if progress_callback is not None:
            progress_callback(Progress(point, LinearMaps(w, torch.eye(z.shape[1], dtype=z.dtype, device=z.device))))
        it += 1
    maps = LinearMaps(*fit_mapping(x, z, src_idx, tgt_idx, config.final_solver, whiten_config))
    return maps, history
