"""A training callback that records test P@1 at each measured point, for the plot only."""
from __future__ import annotations

from typing import Any

import torch

from components.align.config import AlignConfig
from components.align.evaluate import word_translation_precision
from components.align.pipeline import prepare_spaces
from components.align.state import Progress
from components.embeddings import Embeddings


class TestMonitor:
    """Records test P@1 (CSLS, s->t) wherever the criterion is measured; it steers nothing."""

    def __init__(self, src: Embeddings, tgt: Embeddings, pairs: list[tuple[str, str]], config: AlignConfig,
                 device: torch.device) -> None:
        self.x, self.z = prepare_spaces(src, tgt, config, device)
        self.src_words, self.tgt_words, self.pairs, self.config = src.words, tgt.words, pairs, config
        self.points: list[dict[str, Any]] = []

    def __call__(self, progress: Progress) -> None:
        p = progress.point
        row: dict[str, Any] = {"stage": p.stage.value, "step": p.step, "criterion": p.criterion,
                               "objective": p.objective, "test_p1_csls_s2t": None}
        if p.criterion is not None:
            xm, zm = progress.maps.apply(self.x, self.z)
            report = word_translation_precision(xm, zm, self.src_words, self.tgt_words, self.pairs,
                                                self.config.evaluation, self.config.retrieval, "test dictionary")
            row["test_p1_csls_s2t"] = report.metrics["p1_csls_s2t"]
        self.points.append(row)
