"""File formats of the mapping stage's artifacts: each a small dataclass, `save(dir)` / `load(dir)`."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from components.align.lexicon import LexiconEntry, write_lexicon
from components.embeddings import Embeddings, read_vec, write_vec
from components.sources import side_labels


def _save_side(emb: Embeddings, directory: Path, name: str) -> None:
    np.save(directory / f"{name}.npy", emb.vectors.astype(np.float32))
    (directory / f"{name}.words").write_text("\n".join(emb.words) + "\n", encoding="utf-8")


def _load_side(directory: Path, name: str) -> Embeddings:
    words = (directory / f"{name}.words").read_text(encoding="utf-8").splitlines()
    return Embeddings(words, np.load(directory / f"{name}.npy"))


@dataclass
class AlignmentRun:
    """One run's mapped spaces (unit rows, one shared space) and its training history."""

    src: Embeddings
    tgt: Embeddings
    history: list[dict[str, Any]] = field(default_factory=list)

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        _save_side(self.src, directory, "src")
        _save_side(self.tgt, directory, "tgt")
        (directory / "history.json").write_text(json.dumps(self.history, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "AlignmentRun":
        directory = Path(directory)
        history_file = directory / "history.json"
        history = json.loads(history_file.read_text(encoding="utf-8")) if history_file.is_file() else []
        return cls(_load_side(directory, "src"), _load_side(directory, "tgt"), history)


def vector_files(src_lang: str, tgt_lang: str) -> tuple[str, str]:
    """File names of the two aligned spaces (components.sources.side_labels)."""
    src, tgt = side_labels(src_lang, tgt_lang)
    return f"{src}.vec", f"{tgt}.vec"


@dataclass
class AlignedExport:
    """The selected map as two `.vec` files named by language, and its CSLS lexicon."""

    src_lang: str
    tgt_lang: str
    src: Embeddings
    tgt: Embeddings
    lexicon: list[LexiconEntry] = field(default_factory=list)

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        src_file, tgt_file = vector_files(self.src_lang, self.tgt_lang)
        write_vec(self.src, directory / src_file)
        write_vec(self.tgt, directory / tgt_file)
        write_lexicon(self.lexicon, directory / "lexicon.tsv")

    @classmethod
    def load(cls, directory: Path, src_lang: str, tgt_lang: str) -> "AlignedExport":
        """The two aligned spaces (the lexicon is left on disk: readers recompute what they need)."""
        directory = Path(directory)
        src_file, tgt_file = vector_files(src_lang, tgt_lang)
        return cls(src_lang, tgt_lang, read_vec(directory / src_file), read_vec(directory / tgt_file))
