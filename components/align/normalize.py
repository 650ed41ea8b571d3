"""Embedding normalisation before mapping: unit length, mean centering, iterative normalisation."""
from __future__ import annotations

from enum import Enum

import torch

from components.align.config import Normalization


class NormStep(str, Enum):
    UNIT = "unit"  # rows scaled to unit length
    CENTER = "center"  # mean vector subtracted from every row


# Zhang et al. 2019 report that a handful of rounds already makes both conditions hold.
_ITERATIVE_ROUNDS = 5

NORMALIZATION_STEPS: dict[Normalization, tuple[NormStep, ...]] = {
    Normalization.NONE: (),
    Normalization.UNIT: (NormStep.UNIT,),
    Normalization.UNIT_CENTER_UNIT: (NormStep.UNIT, NormStep.CENTER, NormStep.UNIT),
    Normalization.ITERATIVE: (NormStep.UNIT, NormStep.CENTER) * _ITERATIVE_ROUNDS + (NormStep.UNIT,),
}


def unit_length(x: torch.Tensor) -> torch.Tensor:
    """Scale rows of `x` (n, d) to unit L2 norm; zero rows stay zero."""
    norms = x.norm(dim=1, keepdim=True)
    return x / norms.clamp_min(1e-12)


def center(x: torch.Tensor) -> torch.Tensor:
    """Subtract the mean row from `x` (n, d)."""
    return x - x.mean(dim=0, keepdim=True)


def normalize(x: torch.Tensor, method: Normalization) -> torch.Tensor:
    """Apply the steps of `method` to `x` (n, d); returns a new (n, d) tensor."""
    for step in NORMALIZATION_STEPS[method]:
        x = unit_length(x) if step is NormStep.UNIT else center(x)
    return x


def principal_components(x: torch.Tensor, dim: int, rows: int | None = None) -> torch.Tensor:
    """`x` (n, d) projected on its `dim` leading principal directions (fitted on the first `rows`
    rows, the most frequent words), unit length: (n, dim). Hoshen & Wolf 2018 match in such a
    reduced space, where the noise of rare dimensions does not swamp the shared structure."""
    fit = x[:rows] if rows else x
    mean = fit.mean(dim=0, keepdim=True)
    _, _, v = torch.linalg.svd(fit - mean, full_matrices=False)
    return unit_length((x - mean) @ v[: min(dim, v.shape[0])].T)
