"""Bilingual lexicons: the induced lexicon of an aligned pair of spaces, and dictionary TSV files."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from components.align.config import Retrieval, RetrievalConfig
from components.align.evaluate import most_frequent
from components.align.retrieval import translate


@dataclass(frozen=True)
class LexiconEntry:
    source: str
    target: str
    score: float  # CSLS (or cosine) score of the pair
    rank: int  # 1 = best translation of `source`


def induce_lexicon(
    src_mapped: torch.Tensor,
    tgt_mapped: torch.Tensor,
    src_words: Sequence[str],
    tgt_words: Sequence[str],
    retrieval: Retrieval,
    config: RetrievalConfig,
    k: int = 1,
    max_words: int | None = None,
) -> list[LexiconEntry]:
    """Best `k` translations of the `max_words` most frequent source words among the `max_words`
    most frequent target words (all when None; CSLS penalties are measured among them too).

    src_mapped: (n_src, d), tgt_mapped: (n_tgt, d), unit length, in word-list order.
    """
    src_mapped, tgt_mapped = most_frequent(max_words, src_mapped, tgt_mapped)
    n = src_mapped.shape[0]
    scores, top = translate(src_mapped, tgt_mapped, k, retrieval, config)
    scores, top = scores.cpu().tolist(), top.cpu().tolist()
    return [
        LexiconEntry(src_words[i], tgt_words[t], s, r + 1)
        for i in range(n)
        for r, (t, s) in enumerate(zip(top[i], scores[i]))
    ]


def write_lexicon(entries: Sequence[LexiconEntry], path: Path) -> None:
    """Write `source<TAB>target<TAB>score<TAB>rank` lines, with a header line."""
    with Path(path).open("w", encoding="utf-8") as f:
        f.write("source\ttarget\tscore\trank\n")
        for e in entries:
            f.write(f"{e.source}\t{e.target}\t{e.score:.6f}\t{e.rank}\n")
