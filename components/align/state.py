"""Values passed between the steps of the mapping stage: maps, history points, progress events."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import torch

from components.align.normalize import unit_length


class Stage(str, Enum):
    ADVERSARIAL = "adversarial"
    VECMAP = "vecmap"
    SEED = "seed"  # a map fitted on a given dictionary (supervised or identical strings)
    REFINE = "refine"


@dataclass(frozen=True)
class LinearMaps:
    """A pair of linear maps into a shared space: source rows x -> x @ w_src, target rows z -> z @ w_tgt.

    w_src: (d, d'); w_tgt: (d, d'). MUSE-style maps leave the target alone (w_tgt = identity).
    """

    w_src: torch.Tensor
    w_tgt: torch.Tensor

    @staticmethod
    def identity(dim: int, device: torch.device, dtype: torch.dtype = torch.float32) -> LinearMaps:
        eye = torch.eye(dim, device=device, dtype=dtype)
        return LinearMaps(eye, eye.clone())

    def apply(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Map x (n_src, d) and z (n_tgt, d) into the shared space, unit length: (n_src, d'), (n_tgt, d')."""
        return unit_length(x @ self.w_src), unit_length(z @ self.w_tgt)


@dataclass(frozen=True)
class HistoryPoint:
    """One measurement during training.

    criterion: MUSE's unsupervised criterion of the map at this point (None where not measured);
    objective: the stage's own training objective (VecMap mean best similarity, adversarial
    discriminator loss, induced dictionary size for refinement).
    """

    stage: Stage
    step: int
    criterion: float | None
    objective: float | None = None


@dataclass(frozen=True)
class Progress:
    """Event handed to a progress callback; `maps` lets a caller monitor the map it describes."""

    point: HistoryPoint
    maps: LinearMaps


ProgressCallback = Callable[[Progress], None]
