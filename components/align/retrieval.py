"""Nearest-neighbour retrieval between embedding spaces: cosine (NN) and CSLS.

Inputs are expected length-normalised, so inner products are cosines. The k-NN searches
behind the CSLS penalties go through faiss `IndexFlatIP` (CPU) or, when faiss is not
wanted, an exact blockwise torch computation on the tensors' device; both are exact.
"""
from __future__ import annotations

import faiss
import numpy as np
import torch

from components.align.config import Retrieval, RetrievalConfig


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
