"""Corpus BLEU and chrF with sacrebleu on lowercased, already tokenised text (tokenize='none')."""
from __future__ import annotations

from collections.abc import Sequence

from sacrebleu.metrics import BLEU, CHRF


def _check(hyps: Sequence[str], refs: Sequence[str]) -> None:
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses for {len(refs)} references")


def bleu(hyps: Sequence[str], refs: Sequence[str]) -> float:
    """Corpus BLEU (0-100), no tokenisation of its own: the text is tokenised already."""
    _check(hyps, refs)
    if not hyps:
        return 0.0
    return float(BLEU(tokenize="none", force=True).corpus_score(list(hyps), [list(refs)]).score)


def chrf(hyps: Sequence[str], refs: Sequence[str]) -> float:
    """Corpus chrF (0-100)."""
    _check(hyps, refs)
    if not hyps:
        return 0.0
    return float(CHRF().corpus_score(list(hyps), [list(refs)]).score)
