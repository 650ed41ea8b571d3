"""Isomorphism diagnostics: a rotated copy is isomorphic, unrelated spaces are not."""
import numpy as np
import pytest

from components.align.isomorphism import eigenvector_similarity, relational_similarity


def _spaces(noise: float, n: int = 400, d: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    # clustered points, so the neighbour graph has structure worth comparing
    centres = rng.normal(size=(8, d))
    x = centres[rng.integers(8, size=n)] + 0.5 * rng.normal(size=(n, d))
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    z = x @ rotation + noise * rng.normal(size=(n, d))
    return x.astype(np.float32), z.astype(np.float32)


def test_rotated_copy_is_isomorphic():
    x, z = _spaces(noise=0.0)
    iso = eigenvector_similarity(x, z, words=300)
    assert iso.eigenvector_similarity == pytest.approx(0.0, abs=1e-6)
    assert iso.k >= 1 and iso.words == 300
    assert relational_similarity(x, z, [(i, i) for i in range(300)]) == pytest.approx(1.0, abs=1e-5)


def test_noise_moves_both_measures_away_from_isomorphic():
    evs, rsim = [], []
    for noise in (0.1, 0.5, 2.0):
        x, z = _spaces(noise)
        evs.append(eigenvector_similarity(x, z, words=300).eigenvector_similarity)
        rsim.append(relational_similarity(x, z, [(i, i) for i in range(300)]))
    assert evs[0] < evs[1] < evs[2]
    assert rsim[0] > rsim[1] > rsim[2]
    x, _ = _spaces(0.0, seed=1)
    _, unrelated = _spaces(0.0, seed=2)
    assert abs(relational_similarity(x, unrelated, [(i, i) for i in range(300)])) < 0.2


def test_too_small_graph_is_refused():
    x, z = _spaces(0.0, n=8)
    with pytest.raises(ValueError, match="nearest-neighbour graph"):
        eigenvector_similarity(x, z, neighbours=10)
