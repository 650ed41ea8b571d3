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


SCORE_KEYS = ("bleu_s2t", "bleu_t2s", "chrf_s2t", "chrf_t2s")  # what `translation_scores` returns


def translation_scores(hyp_s2t: Sequence[str], hyp_t2s: Sequence[str], src: Sequence[str],
                       tgt: Sequence[str]) -> dict[str, float]:
    """BLEU and chrF of both directions against a parallel test: s2t hypotheses against `tgt`,
    t2s hypotheses against `src`."""
    return {"bleu_s2t": bleu(hyp_s2t, tgt), "bleu_t2s": bleu(hyp_t2s, src),
            "chrf_s2t": chrf(hyp_s2t, tgt), "chrf_t2s": chrf(hyp_t2s, src)}


def examples(src: Sequence[str], hyp: Sequence[str], ref: Sequence[str], n: int = 3) -> list[tuple[str, str, str]]:
    """The first `n` (source, hypothesis, reference) triples, to show beside the scores."""
    return list(zip(src[:n], hyp[:n], ref[:n]))
