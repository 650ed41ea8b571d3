"""Per-language vocabularies: the most frequent training words, specials, and their aligned vectors."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from components.embeddings import Embeddings
from components.errors import InputError

PAD, UNK, BOS, EOS, BLANK = "<pad>", "<unk>", "<s>", "</s>", "<blank>"
SPECIALS = (PAD, UNK, BOS, EOS, BLANK)
PAD_ID, UNK_ID, BOS_ID, EOS_ID, BLANK_ID = range(len(SPECIALS))


@dataclass(frozen=True)
class Vocabulary:
    """Specials first, then words most frequent first. Unknown words map to <unk>."""

    lang: str
    words: tuple[str, ...]  # includes SPECIALS at the front

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(self.words)})

    def __len__(self) -> int:
        return len(self.words)

    @property
    def index(self) -> dict[str, int]:
        return self._index  # type: ignore[attr-defined]

    def encode(self, tokens: Sequence[str]) -> list[int]:
        index = self.index
        return [index.get(t, UNK_ID) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of `ids`, stopping at </s>, skipping <s> and <pad>."""
        out = []
        for i in ids:
            if i == EOS_ID:
                break
            if i in (PAD_ID, BOS_ID):
                continue
            out.append(self.words[i])
        return out

    @classmethod
    def build(cls, lang: str, sentences: Iterable[str], size: int, source: str = "corpus") -> "Vocabulary":
        """The `size` most frequent tokens of whitespace-tokenised `sentences` (ties by first sight)."""
        counts: Counter[str] = Counter()
        for line in sentences:
            counts.update(line.split())
        if not counts:
            raise InputError(source, f"empty {lang} corpus: no words to build a vocabulary from")
        words = [w for w, _ in counts.most_common() if w not in SPECIALS][:size]
        return cls(lang, SPECIALS + tuple(words))

    def write(self, path: Path) -> None:
        Path(path).write_text("".join(w + "\n" for w in self.words[len(SPECIALS):]), encoding="utf-8")

    @classmethod
    def read(cls, lang: str, path: Path) -> "Vocabulary":
        words = Path(path).read_text(encoding="utf-8").splitlines()
        return cls(lang, SPECIALS + tuple(words))

    def vectors(self, emb: Embeddings, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Initial vectors (len(self), dim) from `emb`, and a mask of rows that had none.

        Words missing from the embeddings (and the specials) get small random vectors with
        the typical norm of the present ones, so training can give them a meaning.
        """
        index = emb.index()
        rng = np.random.default_rng(seed)
        present_norm = float(np.linalg.norm(emb.vectors, axis=1).mean()) if len(emb.words) else 1.0
        out = rng.normal(0, present_norm / np.sqrt(emb.dim), (len(self), emb.dim)).astype(np.float32)
        missing = np.ones(len(self), dtype=bool)
        for i, w in enumerate(self.words):
            j = index.get(w)
            if j is not None and i >= len(SPECIALS):
                out[i] = emb.vectors[j]
                missing[i] = False
        return out, missing
