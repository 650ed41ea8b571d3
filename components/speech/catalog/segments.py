"""The fitted segmenter, and one shard's pooled segments with their labels and references.

    segmenter.pt   `SegmentModel.state_dict()` (k-means units when used, PCA)
    segments.pt    {'x': [(segments, dim)], 'bounds': [(segments, 2)], 'labels': [[phone id] or None]}
    refs.json      {'ids': [str], 'phones': [[phone] or None], 'texts': [str]}
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from components.speech.segment import SegmentModel


@dataclass
class Segmenter:
    model: SegmentModel

    def save(self, directory: Path) -> None:
        torch.save(self.model.state_dict(), Path(directory) / "segmenter.pt")

    @classmethod
    def load(cls, directory: Path) -> "Segmenter":
        return cls(SegmentModel.from_state_dict(torch.load(Path(directory) / "segmenter.pt", weights_only=True)))


@dataclass
class Segments:
    """Per utterance: pooled segment features, bounds, segment labels (where an alignment gives
    them), reference phones (flite's alignment, else None), id and transcript ('' if unknown)."""

    x: list[torch.Tensor] = field(default_factory=list)
    bounds: list[torch.Tensor] = field(default_factory=list)
    labels: list[list[int] | None] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    phones: list[list[str] | None] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        torch.save({"x": self.x, "bounds": self.bounds, "labels": self.labels}, directory / "segments.pt")
        (directory / "refs.json").write_text(json.dumps({"ids": self.ids, "phones": self.phones,
                                                         "texts": self.texts}), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "Segments":
        directory = Path(directory)
        seg = torch.load(directory / "segments.pt", weights_only=True)
        r = json.loads((directory / "refs.json").read_text(encoding="utf-8"))
        return cls(seg["x"], seg["bounds"], seg["labels"], r["ids"], r["phones"], r["texts"])

    @classmethod
    def read(cls, directories: Sequence[Path]) -> "Segments":
        """Several shards, concatenated in order."""
        out = cls()
        for d in directories:
            part = cls.load(d)
            out.x += part.x; out.bounds += part.bounds; out.labels += part.labels
            out.ids += part.ids; out.phones += part.phones; out.texts += part.texts
        return out
