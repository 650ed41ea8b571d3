"""File formats the back-translation stage reads and writes besides the model bundle (bundle.py):
each a small dataclass with `load` (and `save` where the stage writes it)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.atomic import read_json, write_json
from components.corpus import Sentences

HISTORY = "history.json"


@dataclass
class MonolingualCorpus:
    """One language's half of the corpus stage: tokenised training and held-out (valid) lines."""

    train: list[str]
    valid: list[str]

    @classmethod
    def load(cls, directory: Path) -> "MonolingualCorpus":
        directory = Path(directory)
        return cls(Sentences.read(directory, "train").lines, Sentences.read(directory, "valid").lines)


@dataclass
class ParallelTest:
    """The held-out test verses, line i of `src` translating line i of `tgt` (tokenised), with the
    text each line was tokenised from, the references of the standard score."""

    src: list[str]
    tgt: list[str]
    raw: tuple[list[str], list[str]] | None = None   # (src, tgt) as read; None: an artifact without them

    @classmethod
    def load(cls, directory: Path, limit: int | None = None) -> "ParallelTest":
        """The test pair, cut to its first `limit` lines when given."""
        directory = Path(directory)
        src, tgt = Sentences.read(directory, "src"), Sentences.read(directory, "tgt")
        n = limit or None
        raw = None if src.raw is None or tgt.raw is None else (src.raw[:n], tgt.raw[:n])
        return cls(src.lines[:n], tgt.lines[:n], raw)


@dataclass
class TrainingHistory:
    """One row per checkpoint of a training run (losses, round-trip BLEU, criterion), kept beside
    the model bundle."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def save(self, directory: Path) -> None:
        write_json(Path(directory) / HISTORY, self.rows, indent=1)

    @classmethod
    def load(cls, directory: Path) -> "TrainingHistory":
        return cls(read_json(Path(directory) / HISTORY))

    def rounded(self, digits: int = 3) -> list[dict[str, Any]]:
        """The rows with floats rounded, for tables."""
        return [{k: round(v, digits) if isinstance(v, float) else v for k, v in r.items()} for r in self.rows]
