"""The stage's model-selection criteria, declared once: round-trip BLEU, and for two styles of one
language its geometric mean with the share of outputs judged the target style; higher is better."""
from __future__ import annotations

import math

from components.report import Criterion

ROUND_TRIP_BLEU = Criterion(name="round-trip BLEU on held-out monolingual sentences", higher_is_better=True)
ROUND_TRIP_AND_STYLE = Criterion(
    name="geometric mean of round-trip BLEU and the % judged the target style, on held-out monolingual sentences",
    higher_is_better=True)


def round_trip_criterion(bleu_src: float, bleu_tgt: float) -> float:
    """The selecting value: mean BLEU of src->tgt->src and tgt->src->tgt reconstructions (0-100)."""
    return (bleu_src + bleu_tgt) / 2



def style_criterion(bleu_src: float, bleu_tgt: float, share_s2t: float, share_t2s: float) -> float:
    """The selecting value between two styles (0-100): the geometric mean of `round_trip_criterion` and
    the mean share (0-1, as %) of the held-out sentences' translations a classifier calls the target
    style. Round-trip BLEU alone is highest for copying the input, which changes no style; the share
    alone is highest for any sentence of the target style, whatever its content."""
    return math.sqrt(round_trip_criterion(bleu_src, bleu_tgt) * 100 * (share_s2t + share_t2s) / 2)
