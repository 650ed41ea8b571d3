"""How far two embedding spaces are from isomorphic, before any mapping is tried.

Eigenvector similarity (Søgaard, Ruder & Vulić 2018): the nearest-neighbour graph of each
space's most frequent words, the spectra of their Laplacians, and the squared distance
between the leading eigenvalues. Isomorphic spaces give 0; the larger the value, the less
an orthogonal map can match the two spaces, and the less likely unsupervised mapping is to
find one. It needs no dictionary, so the corpus report can show it for any pair.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from components.align.normalize import unit_length

@dataclass(frozen=True)
class Isomorphism:
    """eigenvector_similarity: sum over the k leading Laplacian eigenvalues of their squared
    differences (lower is more isomorphic); k: eigenvalues compared; words: graph size per side;
    neighbours: edges per word before symmetrisation."""

    eigenvector_similarity: float
    k: int
    words: int
    neighbours: int


def _laplacian_spectrum(vectors: np.ndarray, neighbours: int) -> np.ndarray:
    """Eigenvalues, largest first, of the combinatorial Laplacian of the symmetric, unweighted
    cosine nearest-neighbour graph of `vectors` (n, d)."""
    x = unit_length(torch.as_tensor(vectors, dtype=torch.float64))
    sims = x @ x.T
    sims.fill_diagonal_(-float("inf"))
    nearest = sims.topk(neighbours, dim=1).indices
    adjacency = torch.zeros_like(sims)
    adjacency.scatter_(1, nearest, 1.0)
    adjacency = torch.maximum(adjacency, adjacency.T)  # an edge either way is an edge
    laplacian = torch.diag(adjacency.sum(dim=1)) - adjacency
    return torch.linalg.eigvalsh(laplacian).flip(0).numpy()


def _leading(eigenvalues: np.ndarray, share: float) -> int:
    """The fewest leading eigenvalues whose sum reaches `share` of the total."""
    cumulative = np.cumsum(eigenvalues)
    return int(np.searchsorted(cumulative, share * cumulative[-1]) + 1)


def eigenvector_similarity(src: np.ndarray, tgt: np.ndarray, words: int = 1000, neighbours: int = 10,
                           share: float = 0.9) -> Isomorphism:
    """Eigenvector similarity of the `words` first rows (most frequent first) of two spaces.

    src (n_src, d), tgt (n_tgt, d'): dimensions may differ, nothing is mapped. k is the smaller
    of the two sides' counts of leading eigenvalues holding `share` of their spectrum's sum, as
    in Søgaard et al. 2018.
    """
    n = min(words, len(src), len(tgt))
    if n <= neighbours:
        raise ValueError(f"{n} words cannot make a {neighbours}-nearest-neighbour graph")
    spectra = [_laplacian_spectrum(np.asarray(v[:n]), neighbours) for v in (src, tgt)]
    k = min(_leading(s, share) for s in spectra)
    value = float(np.sum((spectra[0][:k] - spectra[1][:k]) ** 2))
    return Isomorphism(eigenvector_similarity=value, k=k, words=n, neighbours=neighbours)


def relational_similarity(src: np.ndarray, tgt: np.ndarray, pairs: list[tuple[int, int]], limit: int = 2000) -> float:
    """Pearson correlation between the cosine similarities of every two seed pairs in the source
    space and in the target space (Vulić, Ruder & Søgaard 2020): 1 when the dictionary's words sit
    alike in both spaces, about 0 when unrelated. pairs: (source row, target row), the first
    `limit` of them used (one pair per source word)."""
    chosen, seen = [], set()
    for s, t in pairs:
        if s not in seen:
            seen.add(s)
            chosen.append((s, t))
    chosen = chosen[:limit]
    if len(chosen) < 3:
        raise ValueError(f"{len(chosen)} dictionary pairs cannot give a correlation")
    rows = np.asarray(chosen)
    sims = []
    for vectors, idx in ((src, rows[:, 0]), (tgt, rows[:, 1])):
        x = unit_length(torch.as_tensor(np.asarray(vectors)[idx], dtype=torch.float64))
        upper = torch.triu_indices(len(idx), len(idx), offset=1)
        sims.append((x @ x.T)[upper[0], upper[1]])
    return float(torch.corrcoef(torch.stack(sims))[0, 1])
