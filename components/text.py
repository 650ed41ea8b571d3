"""Sentence cleaning, tokenisation and its inverse, shared by every text source."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

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

# What Moses's detokeniser does not undo of `tokenize` (see `detokenize`).
_COMPOUND_ELISION = re.compile(r"(\w-\w+) ' ")           # "va-t ' en": the compound took the "t"
_ELISION = re.compile(r"(\w') (?=\w)")                    # "l' homme"
_CLITIC = re.compile(r" (?=n't|'\w)")                      # "do n't", "god 's"
_FRENCH_SPACE = re.compile(r" (?=[?!:;%])")                # Moses's French typographic space


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


@lru_cache(maxsize=None)
def _moses(lang: str):
    from sacremoses import MosesDetokenizer  # 0.4 s to import: only where text is detokenised

    return MosesDetokenizer(lang)


def detokenize(tokens: Sequence[str], lang: str) -> str:
    """Join `tokenize`'s tokens back into text: Moses's detokeniser, plus our own splits it lacks.

    Moses glues punctuation, brackets and paired quotes; it knows English "'s" and French/Italian
    elision but not our "n't" (Moses splits "don't" as "don 't"), our "'s" in other languages, Catalan
    elision, or "va-t'en" (split "va-t ' en" here). It puts a space before French ?!:; (typographic
    convention); the built-in French reference (Segond) has none, so neither does the output.
    Not undone: a spaced dash ("- oui" for "-oui"), and Moses joins neighbouring CJK tokens,
    which this tokeniser only splits where the text had a space.
    """
    text = " ".join(tokens)
    if lang in ELIDING:
        text = _COMPOUND_ELISION.sub(r"\1' ", text)
    text = _moses(lang).detokenize(text.split(), unescape=False)  # our tokens are not XML-escaped
    if lang in ELIDING:
        text = _ELISION.sub(r"\1", text)
    else:
        text = _CLITIC.sub("", text)
    if lang == "fr":
        text = _FRENCH_SPACE.sub("", text)
    return text
