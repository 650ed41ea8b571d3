"""Per-language vocabularies, specials first, and their initial vectors from the aligned embeddings:
whole words (`Vocabulary`) or sentencepiece BPE pieces (`SubwordVocabulary`)."""
from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sentencepiece as spm

from components.embeddings import Embeddings, unit_rows
from components.errors import InputError

PAD, UNK, BOS, EOS, BLANK = "<pad>", "<unk>", "<s>", "</s>", "<blank>"
SPECIALS = (PAD, UNK, BOS, EOS, BLANK)
PAD_ID, UNK_ID, BOS_ID, EOS_ID, BLANK_ID = range(len(SPECIALS))


@dataclass(frozen=True)
class Vocabulary:
    """Specials first, then words most frequent first. Unknown words map to <unk>."""

    lang: str
    words: tuple[str, ...]  # the units (here: words), SPECIALS at the front

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(self.words)})

    def __len__(self) -> int:
        return len(self.words)

    @property
    def index(self) -> dict[str, int]:
        return self._index  # type: ignore[attr-defined]

    def split(self, line: str) -> list[str]:
        """The units of a tokenised line (here: its space-separated words)."""
        return line.split()

    def join(self, units: Sequence[str]) -> str:
        """The line of `units`, inverse of `split`."""
        return " ".join(units)

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
        """The vocabulary `write` saved at `path`; a subword one when its sentencepiece model lies beside it."""
        path = Path(path)
        if SubwordVocabulary.model_path(path).is_file():
            return SubwordVocabulary.read(lang, path)
        words = path.read_text(encoding="utf-8").splitlines()
        return cls(lang, SPECIALS + tuple(words))

    def _random_rows(self, emb: Embeddings, seed: int) -> np.ndarray:
        """(len(self), dim) small random vectors at the typical norm of `emb`'s (1 when it has none)."""
        present_norm = float(np.linalg.norm(emb.vectors, axis=1).mean()) if len(emb.words) else 1.0
        rng = np.random.default_rng(seed)
        return rng.normal(0, present_norm / np.sqrt(emb.dim), (len(self), emb.dim)).astype(np.float32)

    def vectors(self, emb: Embeddings, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Initial vectors (len(self), dim) from `emb`, and a mask of rows that had none.

        Words missing from the embeddings (and the specials) get small random vectors with
        the typical norm of the present ones, so training can give them a meaning.
        """
        index = emb.index()
        out = self._random_rows(emb, seed)
        missing = np.ones(len(self), dtype=bool)
        for i, w in enumerate(self.words):
            j = index.get(w)
            if j is not None and i >= len(SPECIALS):
                out[i] = emb.vectors[j]
                missing[i] = False
        return out, missing


def build_vocabulary(lang: str, sentences: Sequence[str], size: int, subword: bool, source: str) -> Vocabulary:
    """Whole words (`subword` False) or sentencepiece BPE pieces: the `size` most frequent units."""
    return (SubwordVocabulary if subword else Vocabulary).build(lang, sentences, size, source)


@dataclass(frozen=True)
class SubwordVocabulary(Vocabulary):
    """Sentencepiece BPE pieces of one language (Sennrich et al. 2016), trained on its tokenised text.

    Pieces mark a word's start with U+2581, so `join` restores the spaces. Text is not normalised
    (the corpus stage did that): join(split(line)) == line for single-spaced lines. A character
    the training text never had is its own <unk> piece, which translation copies through.
    """

    model: bytes = b""  # the serialised sentencepiece model

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "_sp", spm.SentencePieceProcessor(model_proto=self.model))

    def split(self, line: str) -> list[str]:
        return self._sp.encode(line, out_type=str)  # type: ignore[attr-defined]

    def join(self, units: Sequence[str]) -> str:
        return self._sp.decode_pieces(list(units))  # type: ignore[attr-defined]

    @classmethod
    def build(cls, lang: str, sentences: Iterable[str], size: int, source: str = "corpus") -> "SubwordVocabulary":
        lines = [s for s in sentences if s.strip()]
        if not lines:
            raise InputError(source, f"empty {lang} corpus: no words to build a vocabulary from")
        out = io.BytesIO()
        # one thread: the merges are then the same on every machine; a small corpus may support fewer
        # pieces than asked (hard_vocab_limit off), never a failure
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_writer=out, vocab_size=size + 1, model_type="bpe",
            character_coverage=1.0, normalization_rule_name="identity", hard_vocab_limit=False,
            num_threads=1, unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1, minloglevel=2,
            input_sentence_size=0, shuffle_input_sentence=False)
        sp = spm.SentencePieceProcessor(model_proto=out.getvalue())
        pieces = tuple(sp.id_to_piece(i) for i in range(1, sp.get_piece_size()))  # 0 is sentencepiece's <unk>
        return cls(lang, SPECIALS + pieces, out.getvalue())

    @staticmethod
    def model_path(path: Path) -> Path:
        return Path(path).with_suffix(".spm")

    def write(self, path: Path) -> None:
        super().write(path)
        self.model_path(path).write_bytes(self.model)

    @classmethod
    def read(cls, lang: str, path: Path) -> "SubwordVocabulary":
        model = cls.model_path(path).read_bytes()
        words = Path(path).read_text(encoding="utf-8").splitlines()
        return cls(lang, SPECIALS + tuple(words), model)

    def vectors(self, emb: Embeddings, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Initial piece vectors (len(self), dim): a piece that is a whole word of `emb` takes its
        vector; any other piece the mean vector of the embedded words whose segmentation holds it
        (so pieces start in the aligned space too); pieces in no embedded word (and the specials)
        get small random vectors, marked in the mask."""
        out = self._random_rows(emb, seed)
        index = self.index
        sums = np.zeros_like(out)
        counts = np.zeros(len(self))
        for w, v in zip(emb.words, emb.vectors):
            for p in set(self.split(w)):
                i = index.get(p)
                if i is not None and i >= len(SPECIALS):
                    sums[i] += v
                    counts[i] += 1
        have = counts > 0
        if not have.any():
            return out, ~have
        mean = sums[have] / counts[have, None]
        # at the words' norm: a mean of scattered vectors is shorter than they are
        out[have] = unit_rows(mean) * np.linalg.norm(emb.vectors, axis=1).mean()
        whole = emb.index()
        for i, p in enumerate(self.words[len(SPECIALS):], start=len(SPECIALS)):
            j = whole.get(p[1:]) if p.startswith("\u2581") else None
            if j is not None:
                out[i], have[i] = emb.vectors[j], True
        return out, ~have
