"""Fitting a map to a dictionary: orthogonal Procrustes and VecMap's multi-step mapping.

Convention throughout the stage: embeddings are rows, a map W (d, d') is applied as X @ W.
"""
from __future__ import annotations

import torch

from components.align.config import Dewhiten, MappingSolver, WhitenReweightConfig


def procrustes(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Orthogonal W (d, d) minimising ||x W - z||_F for paired rows x (n, d), z (n, d).

    W = U V^T with U S V^T = svd(x^T z) (Schönemann 1966). Solved in float64 for accuracy;
    returned in x's dtype on x's device.
    """
    m = x.double().T @ z.double()
    u, _, vt = torch.linalg.svd(m)
    return (u @ vt).to(x.dtype)


def _whitening(m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Whitening matrix (d, d) of rows m (n, d) and its inverse: (m W)^T (m W) = I."""
    _, s, vt = torch.linalg.svd(m, full_matrices=False)
    # A dictionary with fewer pairs than dimensions leaves tiny singular values; bound them
    # so the whitening stays finite instead of amplifying noise without limit.
    s = s.clamp_min(s.max() * 1e-6)
    return vt.T @ torch.diag(1 / s) @ vt, vt.T @ torch.diag(s) @ vt


def whiten_reweight(
    x: torch.Tensor, z: torch.Tensor, config: WhitenReweightConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """VecMap's multi-step mapping (Artetxe et al. 2018, AAAI) fitted on paired rows x (n, d), z (n, d).

    Whitening of each side, orthogonal map to a shared space, re-weighting by the singular
    values of the cross-covariance, optional de-whitening. Returns (w_src (d, d), w_tgt (d, d)):
    the shared space is x @ w_src and z @ w_tgt.
    """
    x64, z64 = x.double(), z.double()
    wx1, wx1_inv = _whitening(x64)
    wz1, wz1_inv = _whitening(z64)
    wx2, s, wz2t = torch.linalg.svd((x64 @ wx1).T @ (z64 @ wz1))
    wz2 = wz2t.T
    w_src = wx1 @ wx2 @ torch.diag(s**config.src_reweight)
    w_tgt = wz1 @ wz2 @ torch.diag(s**config.tgt_reweight)
    dewhiten = {
        Dewhiten.SRC: wx2.T @ wx1_inv @ wx2,
        Dewhiten.TGT: wz2.T @ wz1_inv @ wz2,
    }
    if config.src_dewhiten is not Dewhiten.NONE:
        w_src = w_src @ dewhiten[config.src_dewhiten]
    if config.tgt_dewhiten is not Dewhiten.NONE:
        w_tgt = w_tgt @ dewhiten[config.tgt_dewhiten]
    return w_src.to(x.dtype), w_tgt.to(x.dtype)


def fit_mapping(
    x: torch.Tensor,
    z: torch.Tensor,
    src_idx: torch.Tensor,
    tgt_idx: torch.Tensor,
    solver: MappingSolver,
    whiten_config: WhitenReweightConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit maps on the dictionary (src_idx[i], tgt_idx[i]) between x (n_src, d) and z (n_tgt, d).

    Returns (w_src (d, d), w_tgt (d, d)); for `ORTHOGONAL`, w_tgt is the identity.
    """
    xd, zd = x[src_idx], z[tgt_idx]
    if solver is MappingSolver.ORTHOGONAL:
        return procrustes(xd, zd), torch.eye(z.shape[1], dtype=z.dtype, device=z.device)
    return whiten_reweight(xd, zd, whiten_config)
