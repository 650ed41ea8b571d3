"""Sentence cleaning and tokenisation, shared by every text source."""
from __future__ import annotations

import re
import unicodedata

# Languages whose elided articles and pronouns ("l'", "qu'") attach to the next word.
ELIDING = frozenset({"fr", "it", "ca"})

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"',
                         "\u00ab": '"', "\u00bb": '"', "\u2010": "-", "\u2011": "-", "\u00a0": " "})
# Editorial marks of the source texts: bracketed insertions keep their words, verse markers go.
_VERSE_MARK = re.compile(r"\(\d+:\d+\)")
_BRACKETS = re.compile(r"[\[\]{}<>]")
_SPACES = re.compile(r"\s+")

_TOKEN_ELIDING = re.compile(r"\w+'|\w+(?:-\w+)*|[^\w\s]", re.UNICODE)
_TOKEN_DEFAULT = re.compile(r"\w+(?=n't)|n't|'\w+|\w+(?:-\w+)*|[^\w\s]", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC-normalise, unify quotes and dashes, drop editorial marks and collapse spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _VERSE_MARK.sub(" ", text)
    text = _BRACKETS.sub("", text)
    return _SPACES.sub(" ", text).strip()


def tokenize(text: str, lang: str) -> list[str]:
    """Split normalised text into word and punctuation tokens.

    Hyphenated compounds stay whole; elision follows the language's convention
    ("l'homme" -> "l'", "homme" in French; "don't" -> "do", "n't" elsewhere).
    """
    pattern = _TOKEN_ELIDING if lang in ELIDING else _TOKEN_DEFAULT
    return pattern.findall(text)


def prepare_sentence(text: str, lang: str, lowercase: bool) -> list[str]:
    """normalize -> optional lowercase -> tokenize."""
    text = normalize(text)
    if lowercase:
        text = text.lower()
    return tokenize(text, lang)
