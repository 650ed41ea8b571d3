"""Audio shard: frame features and a manifest of the utterances they come from.

    features.pt    {'ids': [str], 'feats': [(frames, dim) float32 tensors], 'frame_s': seconds between frames}
    manifest.json  one entry per utterance: id, text, voice, path, frames, aligned
                   (flite's [phone, start s, end s] triples; [] for the user's files)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from components.speech.synth import AlignedPhone


@dataclass
class AudioShard:
    """Features of one shard's usable utterances, in order, with their manifest entries."""

    ids: list[str] = field(default_factory=list)
    feats: list[torch.Tensor] = field(default_factory=list)   # (frames, dim) each
    manifest: list[dict[str, Any]] = field(default_factory=list)
    frame_s: float = 0.01  # seconds between two frames: maps flite's phone times onto frames

    def alignments(self) -> list[list[AlignedPhone] | None]:
        """flite's time-aligned phones per utterance; None where there are none."""
        return [[AlignedPhone(*a) for a in m["aligned"]] if m["aligned"] else None for m in self.manifest]

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        torch.save({"ids": self.ids, "feats": self.feats, "frame_s": self.frame_s}, directory / "features.pt")
        (directory / "manifest.json").write_text(json.dumps(self.manifest), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "AudioShard":
        directory = Path(directory)
        d = torch.load(directory / "features.pt", weights_only=True)
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        return cls(d["ids"], d["feats"], manifest, d["frame_s"])
