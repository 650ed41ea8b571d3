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
    r_src: (n,) and r_tgt: (m,): CSLS penalties (mean of the top-k scores; zeros for NN).
    """

    s2t: torch.Tensor
    s2t_cos: torch.Tensor
    t2s: torch.Tensor
    t2s_cos: torch.Tensor
    max_s2t_cos: torch.Tensor
    max_t2s_cos: torch.Tensor
    r_src: torch.Tensor
    r_tgt: torch.Tensor


class _ScoreBlocks:
    """Row blocks of the score matrix query (n, d) x keys (m, d)^T, less any frequency prior;
    kept in memory for the second pass when `cache` is set, else recomputed."""

    def __init__(
        self, query: torch.Tensor, keys: torch.Tensor, batch_size: int, frequency_prior: float, cache: bool
    ) -> None:
        self.query, self.keys, self.batch_size = query, keys, batch_size
        self.frequency_prior = frequency_prior
        ranks = torch.arange(max(query.shape[0], keys.shape[0]), device=query.device, dtype=query.dtype)
        self.log_rank = torch.log1p(ranks)
        self.cache: dict[int, torch.Tensor] | None = {} if cache else None

    def starts(self) -> range:
        return range(0, self.query.shape[0], self.batch_size)

    def block(self, i: int) -> torch.Tensor:
        if self.cache is not None and i in self.cache:
            return self.cache.pop(i)  # second and last use: the caller may modify it
        scores = self.query[i : i + self.batch_size] @ self.keys.T
        if self.frequency_prior > 0:
            gap = self.log_rank[i : i + scores.shape[0], None] - self.log_rank[None, : self.keys.shape[0]]
            scores.sub_(self.frequency_prior * gap.abs_())
        if self.cache is not None:
            self.cache[i] = scores
        return scores


def _penalty_pass(blocks: _ScoreBlocks, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of the top-k scores (CSLS penalty r) and the best score of every query row: (n,), (n,)."""
    n = blocks.query.shape[0]
    r = torch.empty(n, device=blocks.query.device, dtype=blocks.query.dtype)
    best = torch.empty_like(r)
    for i in blocks.starts():
        top = blocks.block(i).topk(k, dim=1).values
        r[i : i + top.shape[0]] = top.mean(dim=1)
        best[i : i + top.shape[0]] = top[:, 0]
    return r, best


def _argmax_pass(
    blocks: _ScoreBlocks, r_keys: torch.Tensor | None, keep_prob: float, generator: torch.Generator | None
) -> torch.Tensor:
    """Best key of every query row (n,), by score less half the key's CSLS penalty r_keys (m,)
    when given; with keep_prob < 1, each entry competes only with that probability."""
    best = torch.empty(blocks.query.shape[0], dtype=torch.long, device=blocks.query.device)
    # Bytes compared with a threshold: keep_prob is honoured to 1/256, at a fraction of the
    # cost of float noise on a (block, m) matrix.
    threshold = round(keep_prob * 256)
    for i in blocks.starts():
        scores = blocks.block(i)
        if r_keys is not None:
            # The query's own penalty is constant along its row, so half of the key's penalty
            # is all CSLS needs to rank (VecMap's shortcut).
            scores.sub_(r_keys[None, :] / 2)
        if keep_prob < 1.0:
            noise = torch.empty(scores.shape, dtype=torch.uint8, device=scores.device).random_(generator=generator)
            scores.masked_fill_(noise >= threshold, float("-inf"))
        best[i : i + scores.shape[0]] = scores.argmax(dim=1)
    return best


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
    be chosen. Exact, blockwise over `config.batch_size` rows, each direction on its own
    row-major score matrix (column reductions are several times slower on a CPU); the blocks
    are kept between the penalty and the argmax passes when they fit in `config.cache_mb`.
    """
    n, m = src.shape[0], tgt.shape[0]
    cache = 2 * n * m * src.element_size() <= config.cache_mb * 2**20
    fwd = _ScoreBlocks(src, tgt, config.batch_size, frequency_prior, cache)
    bwd = _ScoreBlocks(tgt, src, config.batch_size, frequency_prior, cache)
    csls = retrieval is Retrieval.CSLS
    k = min(config.csls_k, n, m) if csls else 1
    r_src, max_s2t = _penalty_pass(fwd, k)
    r_tgt, max_t2s = _penalty_pass(bwd, k)
    s2t = _argmax_pass(fwd, r_tgt if csls else None, keep_prob, generator)
    t2s = _argmax_pass(bwd, r_src if csls else None, keep_prob, generator)
    s2t_cos = (src * tgt[s2t]).sum(dim=1)
    t2s_cos = (tgt * src[t2s]).sum(dim=1)
    if not csls:
        r_src, r_tgt = torch.zeros_like(r_src), torch.zeros_like(r_tgt)
    return NearestLinks(s2t, s2t_cos, t2s, t2s_cos, max_s2t, max_t2s, r_src, r_tgt)


def sampled_nearest(
    query: torch.Tensor,
    keys: torch.Tensor,
    r_keys: torch.Tensor,
    keep_prob: float,
    generator: torch.Generator,
    block_rows: int,
    frequency_prior: float = 0.0,
) -> torch.Tensor:
    """Best key of each query row among a random share `keep_prob` of the keys, by score
    cos - r_keys / 2 (CSLS ranking; less any frequency prior as in `nearest_both_ways`).

    query: (n, d), keys: (m, d), r_keys: (m,). A fresh subset of keys is drawn for every
    block of `block_rows` rows, so only about keep_prob * n * m scores are computed: the cheap
    counterpart of dropping entries of the full matrix. Returns (n,) key indices.
    """
    n, m = query.shape[0], keys.shape[0]
    log_rank = torch.log1p(torch.arange(max(n, m), device=query.device, dtype=query.dtype))
    best = torch.empty(n, dtype=torch.long, device=query.device)
    for i in range(0, n, block_rows):
        kept = (torch.rand(m, generator=generator, device=query.device) < keep_prob).nonzero().squeeze(1)
        if kept.numel() == 0:
            kept = torch.randint(m, (1,), generator=generator, device=query.device)
        block = query[i : i + block_rows]
        scores = block @ keys[kept].T - r_keys[kept][None, :] / 2
        if frequency_prior > 0:
            gap = log_rank[i : i + block.shape[0], None] - log_rank[kept][None, :]
            scores.sub_(frequency_prior * gap.abs_())
        best[i : i + block.shape[0]] = kept[scores.argmax(dim=1)]
    return best


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
    return NearestLinks(
        s2t, scores[rows, s2t], t2s, scores[t2s, cols], row_top[:, 0], col_top[0],
        row_top.mean(dim=1), col_top.mean(dim=0),
    )


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
    penalties: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Best `k` translations among `keys` of the query words `rows` (all when None).

    query_space: (n, d) whole mapped query vocabulary (CSLS penalties of the keys are measured
    against all of it, not only against `rows`); keys: (m, d); rows: (q,) long indices.
    penalties: CSLS penalties (r_query_space (n,), r_keys (m,)) from `csls_penalties`, when
    the caller reuses them across queries; measured here otherwise.
    Returns scores (q, k') and key indices (q, k').
    """
    query = query_space if rows is None else query_space[rows]
    if retrieval is Retrieval.NN:
        return knn(query, keys, k, use_faiss=config.use_faiss, batch_size=config.batch_size)
    if penalties is None:
        r_query = mean_knn_similarity(
            query, keys, config.csls_k, use_faiss=config.use_faiss, batch_size=config.batch_size
        )
        r_keys = mean_knn_similarity(
            keys, query_space, config.csls_k, use_faiss=config.use_faiss, batch_size=config.batch_size
        )
    else:
        r_query = penalties[0] if rows is None else penalties[0][rows]
        r_keys = penalties[1]
    return csls_knn(query, keys, k, r_query=r_query, r_keys=r_keys, batch_size=config.batch_size)
