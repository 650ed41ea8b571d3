"""Bilingual dictionaries for evaluation: collect word pairs, keep those in vocabulary, split."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from components.corpus import DictionaryConfig
from components.split import stable_unit
from components.errors import InputError
from components.sources import freedict_files, read_dictionary_tsv, read_freedict
from components.text import prepare_sentence


def _single_word(text: str, lang: str, lowercase: bool) -> str | None:
    tokens = prepare_sentence(text, lang, lowercase)
    if len(tokens) == 1 and any(ch.isalpha() for ch in tokens[0]):
        return tokens[0]
    return None


def collect_pairs(src: str, tgt: str, config: DictionaryConfig, lowercase: bool) -> list[tuple[str, str]]:
    """Single-word (source, target) pairs from the user's files or from FreeDict (both directions).

    Words are normalised and tokenised like the corpora, so they match vocabulary entries.
    """
    raw: list[tuple[str, str]] = []
    if config.files:
        for path in config.files:
            raw.extend(read_dictionary_tsv(path))
    else:
        found = freedict_files(config.dictd_dir, src, tgt)
        if not found:
            raise InputError(f"pair {src}-{tgt}",
                             f"no bilingual dictionary in {config.dictd_dir} (install Debian's "
                             f"dict-freedict-* package for the pair, or give dictionary files)")
        for index, reverse in found:
            for head, targets in read_freedict(index):
                raw.extend((t, head) if reverse else (head, t) for t in targets)
    pairs = set()
    for s, t in raw:
        s_word, t_word = _single_word(s, src, lowercase), _single_word(t, tgt, lowercase)
        if s_word and t_word:
            pairs.add((s_word, t_word))
    return sorted(pairs)


def identity_pairs(src_vocab: Iterable[str], tgt_vocab: Iterable[str]) -> list[tuple[str, str]]:
    """(word, word) for every word with a letter in both vocabularies: the evaluation dictionary of
    two styles of one language, where no bilingual dictionary exists. It scores how well a map keeps
    the shared words, not how it maps the words one style has and the other lacks."""
    shared = set(src_vocab) & set(tgt_vocab)
    return sorted((w, w) for w in shared if any(ch.isalpha() for ch in w))


@dataclass(frozen=True)
class DictionarySplit:
    seed: list[tuple[str, str]]
    test: list[tuple[str, str]]
    pairs: int            # single-word pairs before the vocabulary filter
    src_words: int        # distinct source words before the filter
    src_covered: int      # ... of which in the source vocabulary
    tgt_words: int
    tgt_covered: int


def split_dictionary(pairs: Iterable[tuple[str, str]], src_vocab: set[str], tgt_vocab: set[str],
                     config: DictionaryConfig, source: str) -> DictionarySplit:
    """Keep pairs with both words in vocabulary; split them by source word with a stable hash.

    All translations of one source word land in the same part, so no test word is seen
    in the seed part.
    """
    pairs = list(pairs)
    src_words = {s for s, _ in pairs}
    tgt_words = {t for _, t in pairs}
    kept = [(s, t) for s, t in pairs if s in src_vocab and t in tgt_vocab]
    if not kept:
        raise InputError(source, "no dictionary pair has both words in the embedding vocabularies")
    seed, test = [], []
    for s, t in kept:
        (test if stable_unit(s, config.salt) < config.test_fraction else seed).append((s, t))
    return DictionarySplit(seed, test, len(pairs), len(src_words), len(src_words & src_vocab),
                           len(tgt_words), len(tgt_words & tgt_vocab))


def write_pairs(pairs: Iterable[tuple[str, str]], path: Path) -> None:
    """One 'source<TAB>target' line per pair."""
    Path(path).write_text("".join(f"{s}\t{t}\n" for s, t in pairs), encoding="utf-8")


def save_split(split: DictionarySplit, directory: Path) -> None:
    """The `dictionary` artifact: `seed.tsv` and `test.tsv`."""
    write_pairs(split.seed, Path(directory) / "seed.tsv")
    write_pairs(split.test, Path(directory) / "test.tsv")


def load_part(directory: Path, part: Literal["seed", "test"]) -> list[tuple[str, str]]:
    """One part of a `dictionary` artifact."""
    return read_dictionary_tsv(Path(directory) / f"{part}.tsv")


DEV_FRACTION = 0.3
DEV_SALT = "unpaired-dev-v1"


def dev_split(seed_pairs: Iterable[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(fit, dev) shares of the seed part for tuning: dev holds about DEV_FRACTION of the source
    words, every translation of a word in one share. The test part never enters."""
    fit, dev = [], []
    for s, t in seed_pairs:
        (dev if stable_unit(s, DEV_SALT) < DEV_FRACTION else fit).append((s, t))
    return fit, dev
