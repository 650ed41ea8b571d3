"""A training callback that records test P@1 at each measured point, for the plot only."""
from __future__ import annotations

from typing import Any

import torch

from components.align.config import AlignConfig
from components.align.evaluate import csls_p1, most_frequent
from components.align.pipeline import prepare_spaces
from components.align.state import Progress
from components.embeddings import Embeddings


class TestMonitor:
    """Records test P@1 (CSLS, s->t) wherever the criterion is measured; it steers nothing.

    Only CSLS s->t, among the words the evaluation searches: the full evaluation is done once,
    on the selected maps of each run, not at every point of a curve.
    """

    def __init__(self, src: Embeddings, tgt: Embeddings, pairs: list[tuple[str, str]], config: AlignConfig,
                 device: torch.device) -> None:
        # Cut before mapping, so that each point maps search_words rows, not the whole vocabulary.
        self.x, self.z, self.src_words, self.tgt_words = most_frequent(
            config.evaluation.search_words, *prepare_spaces(src, tgt, config, device), src.words, tgt.words)
        self.pairs, self.config = pairs, config
        self.points: list[dict[str, Any]] = []

    def __call__(self, progress: Progress) -> None:
        p = progress.point
        row: dict[str, Any] = {"stage": p.stage.value, "step": p.step, "criterion": p.criterion,
                               "objective": p.objective, "test_p1_csls_s2t": None}
        if p.criterion is not None:
            xm, zm = progress.maps.apply(self.x, self.z)
            row["test_p1_csls_s2t"] = csls_p1(xm, zm, self.src_words, self.tgt_words, self.pairs,
                                              self.config.retrieval, "test dictionary")
        self.points.append(row)
