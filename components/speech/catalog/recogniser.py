"""A trained recogniser (GAN seed, self-trained or supervised generator) and its history.

    generator.pt   {'state', 'in_dim', 'n_phones', 'step', 'score', 'hidden'} (weights_only loadable)
    history.json   one row per evaluation: step, score (the criterion), monitored test PER, losses
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from components.speech.gan import TrainedGenerator


@dataclass
class Recogniser:
    trained: TrainedGenerator

    def save(self, directory: Path) -> None:
        directory, t = Path(directory), self.trained
        torch.save({"state": t.generator_state, "in_dim": t.in_dim, "n_phones": t.n_phones, "step": t.step,
                    "score": t.score, "hidden": t.hidden}, directory / "generator.pt")
        (directory / "history.json").write_text(json.dumps(t.history, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "Recogniser":
        directory = Path(directory)
        d = torch.load(directory / "generator.pt", weights_only=True)
        return cls(TrainedGenerator(d["state"], d["in_dim"], d["n_phones"], d["step"], d["score"],
                                    cls.history(directory), d["hidden"]))

    @staticmethod
    def history(directory: Path) -> list[dict[str, Any]]:
        """The training history alone (plots and correlations need no weights)."""
        return json.loads((Path(directory) / "history.json").read_text(encoding="utf-8"))
