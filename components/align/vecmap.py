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

import torch

from components.align.config import Direction, Normalization, VecMapConfig, WhitenReweightConfig
from components.align.normalize import normalize
from components.align.procrustes import fit_mapping, procrustes
from components.align.state import HistoryPoint, LinearMaps, Progress, ProgressCallback, Stage


def _topk_mean(sims: torch.Tensor, k: int, dim: int) -> torch.Tensor:
    return sims.topk(min(k, sims.shape[dim]), dim=dim).values.mean(dim=dim)


def _csls_direction_pairs(
    sims: torch.Tensor, knn_fwd: torch.Tensor, knn_bwd: torch.Tensor, direction: Direction
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dictionary from a (n_src, n_tgt) score matrix, CSLS-corrected, in `direction`."""
    n_src, n_tgt = sims.shape
    src_all = torch.arange(n_src, device=sims.device)
    tgt_all = torch.arange(n_tgt, device=sims.device)
    fwd = (sims - knn_bwd[None, :] / 2).argmax(dim=1)
    bwd = (sims - knn_fwd[:, None] / 2).argmax(dim=0)
    if direction is Direction.S2T:
        return src_all, fwd
    if direction is Direction.T2S:
        return bwd, tgt_all
    if direction is Direction.UNION:
        return torch.cat([src_all, bwd]), torch.cat([fwd, tgt_all])
    keep = bwd[fwd] == src_all  # mutual
    return src_all[keep], fwd[keep]


def similarity_distribution_init(
    x: torch.Tensor, z: torch.Tensor, config: VecMapConfig, normalization: Normalization
) -> tuple[torch.Tensor, torch.Tensor]:
    """Initial dictionary from intra-lingual similarity distributions.

    x: (n_src, d), z: (n_tgt, d) normalised embeddings, most frequent first. Uses the
    `config.init_vocab` most frequent words of each side: each word is described by its
    sorted row of sqrt(M M^T) (M = its space's embeddings), rows are normalised like the
    embeddings and matched by CSLS. Returns (src_idx (p,), tgt_idx (p,)).
    """
    n = min(config.init_vocab, x.shape[0], z.shape[0])

    def sorted_similarity(m: torch.Tensor) -> torch.Tensor:
        # sqrt(M M^T) = U S U^T: the square root spreads the similarity values so that
        # their sorted profile discriminates words better than the raw cosines (VecMap).
        u, s, _ = torch.linalg.svd(m.double(), full_matrices=False)
        sim = (u * s) @ u.T
        return normalize(sim.sort(dim=1).values.to(m.dtype), normalization)

    xsim, zsim = sorted_similarity(x[:n]), sorted_similarity(z[:n])
    sims = xsim @ zsim.T
    knn_fwd = _topk_mean(sims, config.csls_k, dim=1)
    knn_bwd = _topk_mean(sims, config.csls_k, dim=0)
    return _csls_direction_pairs(sims, knn_fwd, knn_bwd, config.direction)


def stochastic_dictionary(
    xw: torch.Tensor,
    zw: torch.Tensor,
    keep_prob: float,
    config: VecMapConfig,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Dictionary induced by CSLS with each similarity entry kept with probability `keep_prob`.

    xw: (n_src, d) mapped source, zw: (n_tgt, d) target, both restricted to the vocabulary
    cutoff. Returns (src_idx (p,), tgt_idx (p,), objective), where the objective is the mean
    best (unperturbed) cosine over the direction(s) in use, as in VecMap.
    """
    n_src, n_tgt = xw.shape[0], zw.shape[0]
    blocks = [(i, min(i + config.batch_size, n_src)) for i in range(0, n_src, config.batch_size)]
    k = min(config.csls_k, n_src, n_tgt)
    best_fwd = torch.empty(n_src, device=xw.device, dtype=xw.dtype)
    knn_fwd = torch.empty(n_src, device=xw.device, dtype=xw.dtype)
    col_topk = None  # running top-k of every column: target-side CSLS penalty
    cached = None
    for i, j in blocks:
        sims = xw[i:j] @ zw.T
        best_fwd[i:j] = sims.max(dim=1).values
        knn_fwd[i:j] = sims.topk(k, dim=1).values.mean(dim=1)
        block_top = sims.topk(min(k, j - i), dim=0).values
        col_topk = block_top if col_topk is None else torch.cat([col_topk, block_top]).topk(k, dim=0).values
        if len(blocks) == 1:
            cached = sims
    knn_bwd = col_topk.mean(dim=0)
    best_bwd = col_topk[0]

    def dropped(scores: torch.Tensor) -> torch.Tensor:
        if keep_prob >= 1.0:
            return scores
        # Dropped entries become -inf so they can never be chosen (VecMap zeroes them, which
        # lets a dropped entry win over negative scores).
        mask = torch.rand(scores.shape, generator=generator, device=scores.device) >= keep_prob
        return scores.masked_fill(mask, float("-inf"))

    fwd = torch.empty(n_src, dtype=torch.long, device=xw.device)
    bwd_score = torch.full((n_tgt,), float("-inf"), device=xw.device, dtype=xw.dtype)
    bwd = torch.zeros(n_tgt, dtype=torch.long, device=xw.device)
    for i, j in blocks:
        sims = cached if cached is not None else xw[i:j] @ zw.T
        if config.direction is not Direction.T2S:
            fwd[i:j] = dropped(sims - knn_bwd[None, :] / 2).argmax(dim=1)
        if config.direction is not Direction.S2T:
            score, arg = dropped(sims - knn_fwd[i:j, None] / 2).max(dim=0)
            better = score > bwd_score
            bwd_score = torch.where(better, score, bwd_score)
            bwd = torch.where(better, arg + i, bwd)

    src_all = torch.arange(n_src, device=xw.device)
    tgt_all = torch.arange(n_tgt, device=xw.device)
    if config.direction is Direction.S2T:
        return src_all, fwd, float(best_fwd.mean())
    if config.direction is Direction.T2S:
        return bwd, tgt_all, float(best_bwd.mean())
    objective = float(best_fwd.mean() + best_bwd.mean()) / 2
    if config.direction is Direction.UNION:
        return torch.cat([src_all, bwd]), torch.cat([fwd, tgt_all]), objective
    keep = bwd[fwd] == src_all
    return src_all[keep], fwd[keep], objective


def vecmap_self_learning(
    x: torch.Tensor,
    z: torch.Tensor,
    config: VecMapConfig,
    whiten_config: WhitenReweightConfig,
    normalization: Normalization,
    seed: int,
    progress_callback: ProgressCallback | None = None,
) -> tuple[LinearMaps, list[HistoryPoint]]:
    """Unsupervised VecMap: initial dictionary, stochastic self-learning, final mapping.

    x: (n_src, d), z: (n_tgt, d) normalised embeddings, most frequent first.
    Returns the maps (w_src, w_tgt) and one history point per self-learning iteration
    (objective = VecMap's mean best similarity; criterion left unmeasured).
    """
    generator = torch.Generator(device=x.device)
    generator.manual_seed(seed)
    n_src = min(config.vocabulary_cutoff, x.shape[0])
    n_tgt = min(config.vocabulary_cutoff, z.shape[0])
    src_idx, tgt_idx = similarity_distribution_init(x, z, config, normalization)
    history: list[HistoryPoint] = []
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
        src_idx, tgt_idx, objective = stochastic_dictionary(
            x[:n_src] @ w, z[:n_tgt], keep_prob, config, generator
        )
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
