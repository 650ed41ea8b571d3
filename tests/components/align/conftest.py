"""Tiny synthetic embedding spaces with a planted alignment, built in code and seeded."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from components.embeddings import Embeddings


@dataclass(frozen=True)
class PlantedPair:
    """Source space, target space = rotated source + noise with rows permuted, and the truth.

    gold[i]: target row of source word i. rotation: (d, d) with target ~ source @ rotation.
    pairs: the true (source word, target word) dictionary. The first `n_identical` source
    words are spelled the same in the target vocabulary (like names shared by two languages).
    """

    src: Embeddings
    tgt: Embeddings
    gold: np.ndarray
    rotation: np.ndarray
    pairs: list[tuple[str, str]]


def planted_pair(n: int = 600, dim: int = 32, noise: float = 0.5, seed: int = 0, n_identical: int = 30) -> PlantedPair:
    g = np.random.default_rng(seed)
    # Clustered, anisotropic space: words differ in how crowded their neighbourhood is, which
    # is what similarity-distribution initialisation relies on (isotropic noise would not do).
    centres = g.normal(size=(20, dim)) * np.linspace(2.0, 0.5, dim)
    x = centres[g.integers(0, 20, size=n)] + g.normal(size=(n, dim)) * g.uniform(0.3, 1.5, size=(n, 1))
    rotation, _ = np.linalg.qr(g.normal(size=(dim, dim)))
    perm = g.permutation(n)
    z = (x @ rotation + noise * g.normal(size=(n, dim)))[perm]
    gold = np.argsort(perm)
    src_words = [f"w{i}" for i in range(n)]
    tgt_words = [""] * n
    for i in range(n):
        tgt_words[gold[i]] = f"w{i}" if i < n_identical else f"t{i}"
    pairs = [(src_words[i], tgt_words[gold[i]]) for i in range(n)]
    return PlantedPair(
        Embeddings(src_words, x.astype(np.float32)),
        Embeddings(tgt_words, z.astype(np.float32)),
        gold,
        rotation.astype(np.float32),
        pairs,
    )


@pytest.fixture(scope="session")
def planted() -> PlantedPair:
    return planted_pair()


@pytest.fixture(autouse=True)
def _one_thread():
    # The suite shares two cores with other work; BLAS threads would only contend.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def cpu() -> torch.device:
    return torch.device("cpu")
