"""The stage's model-selection criterion, declared once: round-trip BLEU, higher is better."""
from __future__ import annotations

from components.report import Criterion

ROUND_TRIP_BLEU = Criterion(name="round-trip BLEU on held-out monolingual sentences", higher_is_better=True)


def round_trip_criterion(bleu_src: float, bleu_tgt: float) -> float:
    """The selecting value: mean BLEU of src->tgt->src and tgt->src->tgt reconstructions (0-100)."""
    return (bleu_src + bleu_tgt) / 2

