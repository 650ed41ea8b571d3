"""Scoring style transfer: content against the references, change against the input, the style a
classifier sees, and the fluency of the output under the target style's n-gram LM.

Copying the input is a strong baseline between two styles of one language, so every row is
shown beside it and beside the references themselves (what the classifier and LM make of them).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.backtranslate.catalog import ParallelTest
from components.backtranslate.metrics import parallel_test_scores
from components.speech.lm import NgramLM
from components.style.classifier import StyleClassifier
from components.style.metrics import pinc, self_bleu

# row keys (the bench report's too)
COPY = "copy"                        # the output is the input
REFERENCE = "references"             # the output is the reference: what the judges make of real text
LM_WORD_BY_WORD = "lm_word_by_word"  # top-k CSLS candidates searched with the target style's LM
MODEL = "model"                      # the generator


@dataclass(frozen=True)
class StyleJudges:
    """What scores a style without references: the classifier and one n-gram LM per style."""

    classifier: StyleClassifier
    styles: tuple[str, str]          # (source style, target style): the classifier's labels
    lms: tuple[NgramLM, NgramLM]     # fitted on each style's training half

    def judge(self, outputs: Sequence[str], inputs: Sequence[str], to: int) -> dict[str, float]:
        """Unsupervised scores of `outputs` written in style `to` (0 or 1) from `inputs`: the share
        the classifier calls that style, PINC and BLEU against the inputs, the style LM's perplexity."""
        return {"style": self.classifier.share(list(outputs), self.styles[to]),
                "pinc": pinc(list(inputs), list(outputs)),
                "self_bleu": self_bleu(list(inputs), list(outputs)),
                "perplexity": self.lms[to].perplexity([line.split() for line in outputs])}


def score_transfer(hyp_s2t: Sequence[str], hyp_t2s: Sequence[str], test: ParallelTest, lang: str,
                   judges: StyleJudges) -> dict[str, Any]:
    """One row: BLEU/chrF of both directions against the test references (parallel_test_scores'
    keys, s2t = source style -> target style) and the judges' scores, suffixed _s2t / _t2s."""
    row: dict[str, Any] = parallel_test_scores(hyp_s2t, hyp_t2s, test, (lang, lang))
    for suffix, outputs, inputs, to in (("s2t", hyp_s2t, test.src, 1), ("t2s", hyp_t2s, test.tgt, 0)):
        row.update({f"{k}_{suffix}": v for k, v in judges.judge(outputs, inputs, to).items()})
    return row


def anchor_rows(test: ParallelTest, lang: str, judges: StyleJudges) -> dict[str, dict[str, Any]]:
    """The rows every model is read against: copying the input, and the references as output."""
    return {COPY: score_transfer(test.src, test.tgt, test, lang, judges),
            REFERENCE: score_transfer(test.tgt, test.src, test, lang, judges)}
