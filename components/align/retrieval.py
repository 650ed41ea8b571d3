"""Nearest-neighbour retrieval between embedding spaces: cosine (NN) and CSLS.

Inputs are expected length-normalised, so inner products are cosines. Two entry points:
- `translate`: top-k translations of some query words (evaluation, lexicons). The k-NN
  searches behind the CSLS penalties go through faiss `IndexFlatIP` (CPU) or, when faiss is
  not wanted, an exact blockwise torch computation on the tensors' device; both are exact.
- `nearest_both_ways`: the best partner of every word in both directions at once (dictionary
  induction, criterion). One pass of blockwise similarities on the device serves both
  directions and both CSLS penalties, which is what makes refinement cheap on a CPU.
"""
from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np
import torch

from components.align.config import Direction, Retrieval, RetrievalConfig


@dataclass(frozen=True)
class NearestLinks:
    """Best partner of every word in each direction between src (n, d) and tgt (m, d).

    s2t: (n,) best target of each source word; s2t_cos: (n,) cosine of that pair.
    t2s: (m,) best source of each target word; t2s_cos: (m,) cosine of that pair.
    max_s2t_cos: (n,) and max_t2s_cos: (m,): highest score of each word (the cosine, less any
    frequency prior), before CSLS and before any dropped entries (VecMap's objective).
    """

    s2t: torch.Tensor
    s2t_cos: torch.Tensor
    t2s: torch.Tensor
    t2s_cos: torch.Tensor
    max_s2t_cos: torch.Tensor
    max_t2s_cos: torch.Tensor


def nearest_both_ways(
    src: torch.Tensor,
    tgt: torch.Tensor,
    retrieval: Retrieval,
    config: RetrievalConfig,
    keep_prob: float = 1.0,
    generator: torch.Generator | None = None,
    frequency_prior: float = 0.0,
) -> NearestLinks:
    """Nearest neighbours of all words of src (n, d) in tgt (m, d) and of tgt in src.

    With `frequency_prior` > 0, scores are cosines minus frequency_prior * |log(1 + i) -
    log(1 + j)| for words at frequency ranks i and j (rows are taken as most frequent first);
    the `*_cos` fields stay plain cosines.

    With `keep_prob` < 1 each similarity entry takes part only with that probability, drawn
    from `generator` (VecMap's stochastic dictionary induction); dropped entries can never
    be chosen. Exact, blockwise over `config.batch_size` source rows; the blocks are kept
    between the two passes when they fit in `config.cache_mb`, else recomputed.
    """
    n, m = src.shape[0], tgt.shape[0]
    k = min(config.csls_k, n, m)
    csls = retrieval is Retrieval.CSLS
    k_cols = k if csls else 1
    starts = range(0, n, config.batch_size)
    cache: list[torch.Tensor] | None = [] if n * m * src.element_size() <= config.cache_mb * 2**20 else None
    max_s2t = torch.empty(n, device=src.device, dtype=src.dtype)
    r_src = torch.zeros(n, device=src.device, dtype=src.dtype)
    col_top = None  # running top-k of every column: r_tgt (CSLS) and max_t2s
    log_rank = torch.log1p(torch.arange(max(n, m), device=src.device, dtype=src.dtype))

    def scores(i: int) -> torch.Tensor:
        sims = src[i : i + config.batch_size] @ tgt.T
        if frequency_prior > 0:
            gap = log_rank[i : i + sims.shape[0], None] - log_rank[None, :m]
            sims.sub_(frequency_prior * gap.abs_())
        return sims

    for i in starts:
        sims = scores(i)
        rows = slice(i, i + sims.shape[0])
        row_top = sims.topk(k if csls else 1, dim=1).values
        max_s2t[rows] = row_top[:, 0]
        if csls:
            r_src[rows] = row_top.mean(dim=1)
        top = sims.topk(min(k_cols, sims.shape[0]), dim=0).values
        if col_top is not None:
            top = torch.cat([col_top, top])
            top = top.topk(min(k_cols, top.shape[0]), dim=0).values
        col_top = top
        if cache is not None:
            cache.append(sims)
    r_tgt = col_top.mean(dim=0) if csls else torch.zeros(m, device=src.device, dtype=src.dtype)
    max_t2s = col_top[0]

    def drop_(scores: torch.Tensor) -> torch.Tensor:
        """Set each entry of `scores` to -inf with probability 1 - keep_prob, in place."""
        if keep_prob < 1.0:
            noise = torch.rand(scores.shape, generator=generator, device=scores.device, dtype=scores.dtype)
            scores.masked_fill_(noise >= keep_prob, float("-inf"))
        return scores

    s2t = torch.empty(n, dtype=torch.long, device=src.device)
    t2s = torch.zeros(m, dtype=torch.long, device=src.device)
    t2s_score = torch.full((m,), float("-inf"), device=src.device, dtype=src.dtype)
    for b, i in enumerate(starts):
        sims = cache[b] if cache is not None else scores(i)
        rows = slice(i, i + sims.shape[0])
        # The query's own penalty is constant along its row, so half of the other side's
        # penalty is all CSLS needs to rank (VecMap's shortcut).
        s2t[rows] = drop_(sims - r_tgt[None, :] / 2).argmax(dim=1)
        # Last use of this block: work in place to spare a (block, m) allocation.
        score, arg = drop_(sims.sub_(r_src[rows, None] / 2)).max(dim=0)
        better = score > t2s_score
        t2s_score = torch.where(better, score, t2s_score)
        t2s = torch.where(better, arg + i, t2s)
    s2t_cos = (src * tgt[s2t]).sum(dim=1)
    t2s_cos = (tgt * src[t2s]).sum(dim=1)
    return NearestLinks(s2t, s2t_cos, t2s, t2s_cos, max_s2t, max_t2s)


def links_from_scores(scores: torch.Tensor, retrieval: Retrieval, csls_k: int) -> NearestLinks:
    """Nearest links read off a dense score matrix (n, m) that is not an inner product of
    unit vectors (e.g. similarity distributions with a prior added); the `*_cos` fields hold
    the raw scores of the chosen pairs."""
    k = min(csls_k, *scores.shape)
    row_top = scores.topk(k, dim=1).values
    col_top = scores.topk(k, dim=0).values
    if retrieval is Retrieval.CSLS:
        s2t = (scores - col_top.mean(dim=0)[None, :] / 2).argmax(dim=1)
        t2s = (scores - row_top.mean(dim=1)[:, None] / 2).argmax(dim=0)
    else:
        s2t, t2s = scores.argmax(dim=1), scores.argmax(dim=0)
    rows = torch.arange(scores.shape[0], device=scores.device)
    cols = torch.arange(scores.shape[1], device=scores.device)
    return NearestLinks(s2t, scores[rows, s2t], t2s, scores[t2s, cols], row_top[:, 0], col_top[0])


def dictionary_from_links(
    links: NearestLinks, direction: Direction, max_rank: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dictionary (src_idx (p,), tgt_idx (p,)) read off nearest links in `direction`.

    With `max_rank`, only pairs whose two words are among the `max_rank` most frequent of
    their side are kept (MUSE dico_max_rank; the links themselves saw the whole vocabulary).
    """
    n, m = links.s2t.shape[0], links.t2s.shape[0]
    rank = max(n, m) if max_rank is None else max_rank
    src_all = torch.arange(min(n, rank), device=links.s2t.device)
    tgt_all = torch.arange(min(m, rank), device=links.t2s.device)
    s2t_tgt = links.s2t[: src_all.shape[0]]
    t2s_src = links.t2s[: tgt_all.shape[0]]
    keep_s2t = s2t_tgt < rank
    keep_t2s = t2s_src < rank
    if direction is Direction.S2T:
        return src_all[keep_s2t], s2t_tgt[keep_s2t]
    if direction is Direction.T2S:
        return t2s_src[keep_t2s], tgt_all[keep_t2s]
    if direction is Direction.UNION:
        return (
            torch.cat([src_all[keep_s2t], t2s_src[keep_t2s]]),
            torch.cat([s2t_tgt[keep_s2t], tgt_all[keep_t2s]]),
        )
    # Mutual: each word is the other's best match.
    mutual = keep_s2t & (links.t2s[s2t_tgt] == src_all)
    return src_all[mutual], s2t_tgt[mutual]


def _blocks(n: int, batch_size: int) -> range:
    return range(0, n, batch_size)


def knn(
    query: torch.Tensor, keys: torch.Tensor, k: int, *, use_faiss: bool = True, batch_size: int = 4096
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-`k` inner products of each query row among `keys`.

    query: (n, d); keys: (m, d). Returns scores (n, k') and indices (n, k') on query's
    device, best first, with k' = min(k, m).
    """
    k = min(k, keys.shape[0])
    if use_faiss:
        index = faiss.IndexFlatIP(keys.shape[1])
        index.add(np.ascontiguousarray(keys.detach().float().cpu().numpy()))
        scores, indices = index.search(np.ascontiguousarray(query.detach().float().cpu().numpy()), k)
        return (
            torch.from_numpy(scores).to(query.device),
            torch.from_numpy(indices).to(device=query.device, dtype=torch.long),
        )
    all_scores, all_indices = [], []
    for i in _blocks(query.shape[0], batch_size):
        sims = query[i : i + batch_size] @ keys.T
        scores, indices = sims.topk(k, dim=1)
        all_scores.append(scores)
        all_indices.append(indices)
    return torch.cat(all_scores), torch.cat(all_indices)


def mean_knn_similarity(
    query: torch.Tensor, keys: torch.Tensor, k: int, *, use_faiss: bool = True, batch_size: int = 4096
) -> torch.Tensor:
    """Mean similarity of each query row to its `k` nearest keys: CSLS's hubness penalty r.

    query: (n, d); keys: (m, d). Returns (n,).
    """
    scores, _ = knn(query, keys, k, use_faiss=use_faiss, batch_size=batch_size)
    return scores.mean(dim=1)


def csls_penalties(
    src: torch.Tensor, tgt: torch.Tensor, config: RetrievalConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hubness penalties of both spaces: r_src (n_src,) against tgt, r_tgt (n_tgt,) against src."""
    r_src = mean_knn_similarity(src, tgt, config.csls_k, use_faiss=config.use_faiss, batch_size=config.batch_size)
    r_tgt = mean_knn_similarity(tgt, src, config.csls_k, use_faiss=config.use_faiss, batch_size=config.batch_size)
    return r_src, r_tgt


def csls_knn(
    query: torch.Tensor,
    keys: torch.Tensor,
    k: int,
    *,
    r_query: torch.Tensor,
    r_keys: torch.Tensor,
    batch_size: int = 4096,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-`k` keys of each query row by CSLS = 2 cos(q, t) - r_q - r_t.

    query: (n, d); keys: (m, d); r_query: (n,); r_keys: (m,) (see `csls_penalties`).
    Returns scores (n, k') and indices (n, k'), best first, k' = min(k, m).
    """
    k = min(k, keys.shape[0])
    all_scores, all_indices = [], []
    for i in _blocks(query.shape[0], batch_size):
        sims = 2 * (query[i : i + batch_size] @ keys.T) - r_keys[None, :] - r_query[i : i + batch_size, None]
        scores, indices = sims.topk(k, dim=1)
        all_scores.append(scores)
        all_indices.append(indices)
    return torch.cat(all_scores), torch.cat(all_indices)


def translate(
    query_space: torch.Tensor,
    keys: torch.Tensor,
    k: int,
    retrieval: Retrieval,
    config: RetrievalConfig,
    rows: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Best `k` translations among `keys` of the query words `rows` (all when None).

    query_space: (n, d) whole mapped query vocabulary (CSLS penalties of the keys are measured
    against all of it, not only against `rows`); keys: (m, d); rows: (q,) long indices.
    Returns scores (q, k') and key indices (q, k').
    """
    query = query_space if rows is None else query_space[rows]
    if retrieval is Retrieval.NN:
        return knn(query, keys, k, use_faiss=config.use_faiss, batch_size=config.batch_size)
    r_query = mean_knn_similarity(query, keys, config.csls_k, use_faiss=config.use_faiss, batch_size=config.batch_size)
    r_keys = mean_knn_similarity(
        keys, query_space, config.csls_k, use_faiss=config.use_faiss, batch_size=config.batch_size
    )
    return csls_knn(query, keys, k, r_query=r_query, r_keys=r_keys, batch_size=config.batch_size)
