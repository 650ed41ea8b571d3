"""Gromov–Wasserstein initialisation (Alvarez-Melis & Jaakkola 2018), with POT.

The most frequent words of each side are matched by an entropic Gromov–Wasserstein coupling
of their intra-language cosine distances: words are paired so that distances within one
language match distances within the other, which needs no shared space and no spelling.
The coupling's best matches make a seed dictionary for the usual orthogonal map.
"""
from __future__ import annotations

import warnings

import numpy as np
import ot
import torch

from components.align.config import GromovConfig
from components.align.normalize import unit_length


def _distances(vectors: torch.Tensor) -> np.ndarray:
    """Cosine distances (n, n) of unit-normalised rows, scaled to a maximum of 1."""
    x = unit_length(vectors.double())
    cost = (1 - x @ x.T).clamp_min(0).cpu().numpy()
    return cost / max(cost.max(), 1e-12)


def _costs(x: torch.Tensor, z: torch.Tensor, n: int, m: int, config: GromovConfig) -> tuple[np.ndarray, np.ndarray]:
    """Distance matrices of the first n rows of x and m rows of z, in their first `config.dims` columns."""
    return _distances(x[:n, :config.dims]), _distances(z[:m, :config.dims])


def gromov_coupling(x: torch.Tensor, z: torch.Tensor, config: GromovConfig, start: np.ndarray | None = None,
                    seed: int = 0) -> tuple[np.ndarray, float]:
    """Entropic GW coupling (n, m) of the `config.words` first rows of x and z (their first
    `config.dims` columns), and its GW loss.

    `start` (n, m) is the coupling to start from; a supervised coupling there checks that the
    objective keeps it. Without one, seed 0 starts from the product of the uniform marginals
    (Alvarez-Melis & Jaakkola) and other seeds from a random coupling drawn with them, so that
    seeds reach different local optima.
    """
    n, m = min(config.words, x.shape[0]), min(config.words, z.shape[0])
    c1, c2 = _costs(x, z, n, m, config)
    p, q = ot.unif(n), ot.unif(m)
    if start is None and seed != 0:
        noise = np.random.default_rng(seed).random((n, m))
        start = ot.sinkhorn(p, q, noise, reg=0.05)
    with warnings.catch_warnings():  # inner Sinkhorn solves of early outer steps need not converge
        warnings.filterwarnings("ignore", message="Sinkhorn did not converge")
        coupling, log = ot.gromov.entropic_gromov_wasserstein(
            c1, c2, p, q, loss_fun="square_loss", epsilon=config.epsilon, max_iter=config.max_iterations,
            tol=config.tolerance, G0=start, log=True, verbose=False)
    return np.asarray(coupling), float(log["gw_dist"])


def gromov_loss(x: torch.Tensor, z: torch.Tensor, coupling: np.ndarray, config: GromovConfig) -> float:
    """The (unregularised) GW loss of a given coupling between the first rows of x and z."""
    n, m = coupling.shape
    c1, c2 = _costs(x, z, n, m, config)
    constant, h1, h2 = ot.gromov.init_matrix(c1, c2, coupling.sum(1), coupling.sum(0), "square_loss")
    return float(ot.gromov.gwloss(constant, h1, h2, coupling))


def coupling_dictionary(coupling: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Mutual best matches of a coupling: (src_idx (p,), tgt_idx (p,)); every row's best match
    when fewer than two are mutual."""
    s2t = coupling.argmax(axis=1)
    t2s = coupling.argmax(axis=0)
    mutual = np.flatnonzero(t2s[s2t] == np.arange(len(s2t)))
    rows = mutual if len(mutual) >= 2 else np.arange(len(s2t))
    return (torch.as_tensor(rows, dtype=torch.long, device=device),
            torch.as_tensor(s2t[rows], dtype=torch.long, device=device))
