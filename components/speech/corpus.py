"""The speech stage's inputs: which verses are spoken and which are read as unpaired text, or
the user's audio files, transcripts and text.

Built-in (DESIGN.md s.5): audio = KJV verses of training half A spoken by flite voices in turn;
unpaired text = the verses of half B; test = verses of the held-out books (the Gospels), so
no test sentence is heard or read in training.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from components.split import SplitConfig, verse_half
from components.errors import InputError
from components.sources import read_bible, read_text_lines
from components.speech.phones import words_of

AUDIO_SUFFIXES = (".wav", ".flac")


@dataclass(frozen=True)
class Utterance:
    """One audio item to prepare.

    id: stable name; text: what is said (built-in, or the user's transcript; '' if unknown);
    voice: flite voice to synthesise with ('' for a user file); path: the user's file (None
    for synthesis).
    """

    id: str
    text: str = ""
    voice: str = ""
    path: str | None = None


def _spoken(text: str) -> str:
    return text.replace("[", "").replace("]", "")


def bible_speech_split(db: Path, split: SplitConfig, n_train: int, n_test: int, voices: Iterable[str],
                       min_words: int, max_words: int, n_text: int | None, seed: int,
                       translation: str = "kjv") -> tuple[list[Utterance], list[Utterance], list[str]]:
    """Built-in speech corpus: (train utterances, test utterances, unpaired text sentences).

    Train: `n_train` verses of half A with `min_words`..`max_words` words, drawn with `seed`;
    test: `n_test` such verses of the test books; voices cycle over each list. Text: every
    verse of half B (the first `n_text` of a seeded shuffle when given).
    """
    voices = tuple(voices)
    if not voices:
        raise InputError("voices", "at least one flite voice is needed")
    test_books = set(split.test_books)
    train, test, text = [], [], []
    for v in read_bible(db, translation, "en"):
        t = _spoken(v.text)
        fits = min_words <= len(words_of(t)) <= max_words
        if v.book in test_books:
            if fits:
                test.append((v.id, t))
        elif verse_half(v.id, split.salt) == "A":
            if fits:
                train.append((v.id, t))
        else:
            text.append(t)
    rng = random.Random(seed)
    train = rng.sample(train, min(n_train, len(train)))
    test = rng.sample(test, min(n_test, len(test)))
    if n_text is not None:
        rng.shuffle(text)
        text = text[:n_text]

    def utterances(rows: list[tuple[str, str]]) -> list[Utterance]:
        return [Utterance(f"{vid}-{voices[i % len(voices)]}", t, voices[i % len(voices)])
                for i, (vid, t) in enumerate(rows)]

    return utterances(train), utterances(test), text


def read_transcripts(path: Path) -> dict[str, str]:
    """'<file stem or name><TAB><text>' lines -> {stem: text}. Raises InputError on a line
    without a tab."""
    out: dict[str, str] = {}
    for line_id, line in read_text_lines(Path(path)):
        name, sep, text = line.partition("\t")
        if not sep:
            raise InputError(line_id, "expected '<file name><TAB><transcript>'")
        out[Path(name.strip()).stem] = text.strip()
    return out


def directory_utterances(directory: Path, transcripts: dict[str, str] | None = None) -> list[Utterance]:
    """Every WAV/FLAC file under `directory` (sorted), with its transcript when known.

    Raises InputError when the directory is missing or holds no audio file.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(directory, "audio directory not found")
    files = sorted(p for p in directory.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not files:
        raise InputError(directory, f"holds no {'/'.join(AUDIO_SUFFIXES)} files")
    transcripts = transcripts or {}
    return [Utterance(p.relative_to(directory).with_suffix("").as_posix(), transcripts.get(p.stem, ""),
                      path=str(p)) for p in files]


def text_sentences(paths: Iterable[Path]) -> list[str]:
    """Non-blank lines of the user's UTF-8 text files, one sentence each."""
    return [line for p in paths for _, line in read_text_lines(Path(p))]


def shards(items: list, n: int) -> list[list]:
    """Split `items` into at most `n` contiguous, near-equal, non-empty parts (order kept)."""
    n = max(1, min(n, len(items)))
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (i < extra)
        out.append(items[start:end])
        start = end
    return [s for s in out if s]
