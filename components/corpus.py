"""Corpus preparation: monolingual training sides, a parallel test set, leak checks.

The built-in benchmark follows DESIGN.md section 5: whole held-out books are the
parallel test set; the remaining verses are split into two disjoint halves by a
stable hash of the verse id, the source language training on half A only and the
target language on half B only.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from components.embeddings import EmbeddingConfig
from components.errors import InputError
from components.split import SplitConfig, stable_unit, verse_half
from components.sources import (BIBLE_TRANSLATIONS, bible_translations, read_bible,
                                read_text_lines)
from components.text import prepare_sentence


class TextConfig(BaseModel):
    """Cleaning applied to every sentence."""

    model_config = ConfigDict(frozen=True)

    lowercase: bool = True                       # fold case (the dictionaries are lowercase)
    min_tokens: int = Field(3, ge=1)             # shorter sentences are dropped
    max_tokens: int = Field(120, ge=1)           # longer ones too: they dominate batches
    dedup: bool = True                           # keep the first copy of a repeated sentence


class DictionaryConfig(BaseModel):
    """Bilingual dictionary used for evaluation (test part) and supervised references (seed part)."""

    model_config = ConfigDict(frozen=True)

    test_fraction: float = Field(0.3, gt=0, lt=1)    # share of source words in the test part
    salt: str = "unpaired-dict-v1"
    files: tuple[Path, ...] = ()                     # the user's 'src<TAB>tgt' files; replace FreeDict
    dictd_dir: Path = Path("/usr/share/dictd")       # where Debian's FreeDict packages install


class SideConfig(BaseModel):
    """One language side: the built-in Bibles or the user's monolingual files."""

    model_config = ConfigDict(frozen=True)

    lang: str = Field(min_length=2, max_length=3)   # ISO 639-1 code
    translations: tuple[str, ...] = ()              # built-in Bibles; empty = every one of `lang`
    files: tuple[Path, ...] = ()                    # UTF-8 text (plain or .gz); replaces the Bibles

    @field_validator("lang")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()

    def bible_names(self) -> list[str]:
        """The translations this side reads, checked against the language."""
        names = list(self.translations) or bible_translations(self.lang)
        bible_translations(self.lang)  # a language without built-in Bibles is named as such first
        for name in names:
            t = BIBLE_TRANSLATIONS.get(name)
            if t is None:
                raise InputError(f"translation {name!r}", f"unknown (known: {', '.join(BIBLE_TRANSLATIONS)})")
            if t.lang != self.lang:
                raise InputError(f"translation {name!r}", f"is {t.lang}, not {self.lang}")
        return names


class CorpusConfig(BaseModel):
    """Everything the corpus preparation stage needs."""

    model_config = ConfigDict(frozen=True)

    src: SideConfig = SideConfig(lang="en")
    tgt: SideConfig = SideConfig(lang="fr")
    test_files: tuple[Path, Path] | None = None   # the user's parallel test set (src file, tgt file)
    text: TextConfig = TextConfig()
    split: SplitConfig = SplitConfig()
    embeddings: EmbeddingConfig = EmbeddingConfig()
    dictionary: DictionaryConfig = DictionaryConfig()

    @property
    def pair(self) -> str:
        return f"{self.src.lang}-{self.tgt.lang}"

    @classmethod
    def for_pair(cls, pair: str, **overrides: object) -> "CorpusConfig":
        """Built-in Bible sides for a pair written 'src-tgt'."""
        parts = pair.lower().split("-")
        if len(parts) != 2 or not all(parts):
            raise InputError(f"pair {pair!r}", "expected two language codes like 'en-fr'")
        return cls(src=SideConfig(lang=parts[0]), tgt=SideConfig(lang=parts[1]), **overrides)


@dataclass
class CleanStats:
    """What cleaning kept and dropped, by reason."""

    read: int = 0
    empty: int = 0
    too_short: int = 0
    too_long: int = 0
    duplicate: int = 0
    in_test: int = 0
    kept: int = 0
    tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Sentences:
    """Tokenised sentences with the id of the record each came from and, for a test set, its text."""

    ids: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)   # tokens joined by single spaces
    raw: list[str] | None = None                     # line i as read, before normalisation (test sets)

    def write(self, directory: Path, stem: str) -> None:
        (directory / f"{stem}.txt").write_text("".join(line + "\n" for line in self.lines), encoding="utf-8")
        (directory / f"{stem}.ids").write_text("".join(i + "\n" for i in self.ids), encoding="utf-8")
        if self.raw is not None:  # a line break inside a text would shift every line after it
            (directory / f"{stem}.raw.txt").write_text("".join(" ".join(r.splitlines()) + "\n" for r in self.raw),
                                                       encoding="utf-8")

    @classmethod
    def read(cls, directory: Path, stem: str) -> "Sentences":
        """The sentences of `stem`; `raw` is None where no `<stem>.raw.txt` was written."""
        lines = (directory / f"{stem}.txt").read_text(encoding="utf-8").splitlines()
        ids = (directory / f"{stem}.ids").read_text(encoding="utf-8").splitlines()
        raw_path = directory / f"{stem}.raw.txt"
        raw = raw_path.read_text(encoding="utf-8").splitlines() if raw_path.is_file() else None
        if raw is not None and len(raw) != len(lines):
            raise InputError(raw_path, f"has {len(raw)} lines for the {len(lines)} of {stem}.txt")
        return cls(ids, lines, raw)


def clean(records: Iterable[tuple[str, str]], lang: str, config: TextConfig,
          exclude: frozenset[str] = frozenset()) -> tuple[Sentences, CleanStats]:
    """Normalise, tokenise, filter by length, de-duplicate and drop sentences in `exclude`.

    records: (id, raw text) pairs. `exclude` holds tokenised lines (e.g. the test set)
    that must not appear in the output.
    """
    out, stats, seen = Sentences(), CleanStats(), set()
    for rid, raw in records:
        stats.read += 1
        tokens = prepare_sentence(raw, lang, config.lowercase)
        if not tokens:
            stats.empty += 1
            continue
        if len(tokens) < config.min_tokens:
            stats.too_short += 1
            continue
        if len(tokens) > config.max_tokens:
            stats.too_long += 1
            continue
        line = " ".join(tokens)
        if line in exclude:
            stats.in_test += 1
            continue
        if config.dedup:
            if line in seen:
                stats.duplicate += 1
                continue
            seen.add(line)
        out.ids.append(rid)
        out.lines.append(line)
        stats.kept += 1
        stats.tokens += len(tokens)
    return out, stats


def split_train_valid(sentences: Sentences, fraction: float, salt: str) -> tuple[Sentences, Sentences]:
    """Hold out a stable random `fraction` of sentences (by id) for validation."""
    train, valid = Sentences(), Sentences()
    for rid, line in zip(sentences.ids, sentences.lines):
        part = valid if stable_unit(rid, salt + "/valid") < fraction else train
        part.ids.append(rid)
        part.lines.append(line)
    return train, valid


@dataclass
class BibleSide:
    """Raw records of one language read from the built-in Bibles."""

    train: list[tuple[str, str]]    # (verse id, text) of this side's half, all translations
    test: list[tuple[str, str]]     # held-out books, all translations (for decontamination)


def bible_side(db: Path, side: SideConfig, split: SplitConfig, half: str) -> BibleSide:
    """Collect one language's verses: its half of the training books, and every test verse."""
    if half not in ("A", "B"):
        raise ValueError(f"half must be 'A' or 'B', got {half!r}")
    test_books = set(split.test_books)
    train: list[tuple[str, str]] = []
    test: list[tuple[str, str]] = []
    for name in side.bible_names():
        for v in read_bible(db, name, side.lang):
            if v.book in test_books:
                test.append((v.id, v.text))
            elif verse_half(v.id, split.salt) == half:
                train.append((v.id, v.text))
    return BibleSide(train, test)


def half_verse_pairs(db: Path, src: str, tgt: str, half: str, split: SplitConfig) -> list[tuple[str, str]]:
    """(src text, tgt text) of the verses of training half `half` outside the test books that both
    built-in Bibles have (the tgt text not blank), in the src Bible's order: dev data for two styles
    of one language whose tgt side trains on the other half, so its text here is unseen."""
    tgt_text = {v.id: v.text for v in read_bible(db, tgt)}
    test_books = set(split.test_books)
    return [(v.text, tgt_text[v.id]) for v in read_bible(db, src)
            if v.book not in test_books and verse_half(v.id, split.salt) == half and tgt_text.get(v.id, "").strip()]


def files_records(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(id, text) for every non-blank line of the user's files, checked for UTF-8."""
    records: list[tuple[str, str]] = []
    for path in paths:
        records.extend(read_text_lines(path))
    return records


def parallel_sentences(records: Iterable[tuple[str, str, str]], src_lang: str, tgt_lang: str, text: TextConfig,
                       drop_empty: bool) -> tuple[Sentences, Sentences]:
    """Tokenise aligned (id, source text, target text) records, each side keeping its text as read.

    drop_empty: skip a record that tokenises to nothing on either side; otherwise it stays, empty.
    """
    out_src, out_tgt = Sentences(raw=[]), Sentences(raw=[])
    for rid, s, t in records:
        s_tok = prepare_sentence(s, src_lang, text.lowercase)
        t_tok = prepare_sentence(t, tgt_lang, text.lowercase)
        if drop_empty and not (s_tok and t_tok):
            continue
        for out, tokens, raw in ((out_src, s_tok, s), (out_tgt, t_tok, t)):
            out.ids.append(rid)
            out.lines.append(" ".join(tokens))
            out.raw.append(raw)
    return out_src, out_tgt


def parallel_bible_test(db: Path, src: SideConfig, tgt: SideConfig, split: SplitConfig,
                        text: TextConfig) -> tuple[Sentences, Sentences]:
    """Test verses of the primary translation of each side, aligned by verse id."""
    def primary(side: SideConfig) -> dict[str, str]:
        name = side.bible_names()[0]
        return {v.id: v.text for v in read_bible(db, name, side.lang) if v.book in set(split.test_books)}

    src_verses, tgt_verses = primary(src), primary(tgt)
    both = ((vid, s, tgt_verses[vid]) for vid, s in src_verses.items() if vid in tgt_verses)
    out_src, out_tgt = parallel_sentences(both, src.lang, tgt.lang, text,
                                          drop_empty=True)  # a few verses are empty in some translations
    if not out_src.lines:
        raise InputError(f"test books {split.test_books}", "no verse found in both translations")
    return out_src, out_tgt


def parallel_files_test(src_path: Path, tgt_path: Path, src_lang: str, tgt_lang: str,
                        text: TextConfig) -> tuple[Sentences, Sentences]:
    """The user's parallel test files, line by line."""
    src_lines = [t for _, t in read_text_lines(src_path)]
    tgt_lines = [t for _, t in read_text_lines(tgt_path)]
    if len(src_lines) != len(tgt_lines):
        raise InputError(tgt_path, f"has {len(tgt_lines)} lines but {src_path} has {len(src_lines)}")
    records = ((f"test:{i}", s, t) for i, (s, t) in enumerate(zip(src_lines, tgt_lines)))
    return parallel_sentences(records, src_lang, tgt_lang, text, drop_empty=False)


def count_overlap(a: Iterable[str], b: Iterable[str]) -> int:
    """Number of distinct items present in both."""
    return len(set(a) & set(b))
