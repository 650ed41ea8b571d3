"""Orthographic seed dictionary: words spelled the same in both vocabularies.

No bilingual dictionary enters, but the seed rests on one assumption about the languages:
that they share a script, so that names, numbers, punctuation and loanwords are written
alike. For pairs in different scripts the seed is (nearly) empty and the method that uses
it cannot start; the similarity-distribution initialisation makes no such assumption.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from components.align.config import OrthographicConfig
from components.errors import InputError


def fold_accents(word: str) -> str:
    """`word` without combining marks (NFKD decomposition): 'été' -> 'ete'."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def identical_string_pairs(
    src_words: Sequence[str], tgt_words: Sequence[str], config: OrthographicConfig = OrthographicConfig()
) -> list[tuple[int, int]]:
    """Index pairs (source index, target index) of words spelled alike, in source order.

    Words shorter than `config.min_length` characters are skipped. With `config.fold_accents`
    words match after removing diacritics; a source word then pairs with the most frequent
    target word of the same folded spelling (vocabularies are most frequent first).
    """
    key = fold_accents if config.fold_accents else (lambda w: w)
    tgt_index: dict[str, int] = {}
    for j, w in enumerate(tgt_words):
        if len(w) >= config.min_length:
            tgt_index.setdefault(key(w), j)
    return [(i, tgt_index[key(w)]) for i, w in enumerate(src_words)
            if len(w) >= config.min_length and key(w) in tgt_index]


class NoSeedError(InputError):
    """Too few identically spelled words to seed a map (e.g. languages in different scripts)."""


def orthographic_seed(
    src_words: Sequence[str],
    tgt_words: Sequence[str],
    config: OrthographicConfig,
    source: object = "source/target embeddings",
) -> tuple[list[int], list[int]]:
    """Seed dictionary (src_idx, tgt_idx) of identical strings; raises NoSeedError naming
    `source` when fewer than `config.min_pairs` words qualify."""
    pairs = identical_string_pairs(src_words, tgt_words, config)
    if len(pairs) < config.min_pairs:
        raise NoSeedError(
            source, f"only {len(pairs)} words are spelled the same in both vocabularies "
            f"(need {config.min_pairs}); the orthographic seed assumes a shared script")
    return [i for i, _ in pairs], [j for _, j in pairs]
