"""Corpus BLEU and chrF with sacrebleu, two ways.

Standard: the hypotheses detokenised, against the test lines as read, with sacrebleu's own 13a
tokenisation and lowercase=True (the models emit lowercased text), reported with the metric's
signature. On tokens: lowercased, already tokenised text on both sides (tokenize='none'), which
needs no raw reference and is what round-trip BLEU uses during training.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sacrebleu.metrics import BLEU, CHRF

from components.backtranslate.catalog import ParallelTest
from components.text import detokenize


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


def _standard(metric: BLEU | CHRF, hyps: Sequence[str], refs: Sequence[str]) -> tuple[float, str]:
    _check(hyps, refs)
    if not hyps:  # sacrebleu has no score, hence no signature, for an empty corpus
        raise ValueError("no hypotheses to score")
    score = metric.corpus_score(list(hyps), [list(refs)]).score
    return float(score), str(metric.get_signature())


def standard_bleu(hyps: Sequence[str], refs: Sequence[str]) -> tuple[float, str]:
    """sacreBLEU (0-100) of detokenised text against raw references, 13a, lowercased; and its signature."""
    return _standard(BLEU(lowercase=True), hyps, refs)


def standard_chrf(hyps: Sequence[str], refs: Sequence[str]) -> tuple[float, str]:
    """sacrebleu's chrF (0-100) of detokenised text against raw references, lowercased; and its signature."""
    return _standard(CHRF(lowercase=True), hyps, refs)


SCORE_KEYS = ("bleu_s2t", "bleu_t2s", "chrf_s2t", "chrf_t2s")  # on tokens: what `translation_scores` returns
STANDARD_KEYS = ("sacrebleu_s2t", "sacrebleu_t2s", "sacrechrf_s2t", "sacrechrf_t2s")  # `standard_scores`
SIGNATURE_KEYS = ("sacrebleu_signature", "sacrechrf_signature")                      # beside them


def translation_scores(hyp_s2t: Sequence[str], hyp_t2s: Sequence[str], src: Sequence[str],
                       tgt: Sequence[str]) -> dict[str, float]:
    """BLEU and chrF on tokens of both directions against a parallel test: s2t hypotheses against
    `tgt`, t2s hypotheses against `src`."""
    return {"bleu_s2t": bleu(hyp_s2t, tgt), "bleu_t2s": bleu(hyp_t2s, src),
            "chrf_s2t": chrf(hyp_s2t, tgt), "chrf_t2s": chrf(hyp_t2s, src)}


def standard_scores(hyp_s2t: Sequence[str], hyp_t2s: Sequence[str], raw_src: Sequence[str],
                    raw_tgt: Sequence[str], langs: tuple[str, str]) -> dict[str, Any]:
    """sacreBLEU and chrF of both directions: tokenised hypotheses detokenised in their language
    (`langs` = (source, target)), against the raw test lines; with the two signatures."""
    s2t = [detokenize(h.split(), langs[1]) for h in hyp_s2t]
    t2s = [detokenize(h.split(), langs[0]) for h in hyp_t2s]
    (bleu_s2t, bleu_sig), (bleu_t2s, _) = standard_bleu(s2t, raw_tgt), standard_bleu(t2s, raw_src)
    (chrf_s2t, chrf_sig), (chrf_t2s, _) = standard_chrf(s2t, raw_tgt), standard_chrf(t2s, raw_src)
    return {"sacrebleu_s2t": bleu_s2t, "sacrebleu_t2s": bleu_t2s, "sacrechrf_s2t": chrf_s2t,
            "sacrechrf_t2s": chrf_t2s, "sacrebleu_signature": bleu_sig, "sacrechrf_signature": chrf_sig}


def parallel_test_scores(hyp_s2t: Sequence[str], hyp_t2s: Sequence[str], test: ParallelTest,
                         langs: tuple[str, str]) -> dict[str, Any]:
    """Both directions on the test: the scores on tokens, and the standard scores where the test
    keeps its raw lines (an older test artifact has none: they are left out, not approximated)."""
    scores: dict[str, Any] = translation_scores(hyp_s2t, hyp_t2s, test.src, test.tgt)
    if test.raw is not None:
        scores.update(standard_scores(hyp_s2t, hyp_t2s, *test.raw, langs))
    return scores


def examples(src: Sequence[str], hyp: Sequence[str], ref: Sequence[str], n: int = 3) -> list[tuple[str, str, str]]:
    """The first `n` (source, hypothesis, reference) triples, to show beside the scores."""
    return list(zip(src[:n], hyp[:n], ref[:n]))
