"""Unsupervised model selection (wav2vec-U): phone-LM perplexity of the model's outputs,
divided by the squared fraction of the phone inventory it uses. Lower is better.

Only the model's own outputs and an LM of unpaired text enter; no transcript does. A model
that outputs few phones gets a low perplexity but a small usage fraction, which the square
punishes.
"""
from __future__ import annotations

from typing import Sequence

from components.report import Criterion
from components.speech.config import LmConfig
from components.speech.lm import NgramLM
from components.speech.phones import PHONES, SILENCE_ID, merge_repeats

# what selects among GAN seeds and the self-trained model (the retraining flow reads it too)
SPEECH_CRITERION = Criterion(name="phone-LM perplexity / phone usage^2", higher_is_better=False)


def lm_sequences(hyps: Sequence[Sequence[int]]) -> list[list[int]]:
    """Outputs as the phone LM sees them: silence dropped, repeats merged."""
    return [merge_repeats([p for p in h if p != SILENCE_ID]) for h in hyps]


def vocabulary_usage(hyps: Sequence[Sequence[int]], lm: NgramLM) -> float:
    """Fraction of the LM's phone types (end mark excluded) that occur in the outputs."""
    types = {t for t in lm.vocab if isinstance(t, int)}
    used = {p for h in hyps for p in h} & types
    return len(used) / max(1, len(types))


def weighted_lm_ppl(hyps: Sequence[Sequence[int]], lm: NgramLM) -> float:
    """lm_ppl / usage^2 of the outputs (phone-id sequences); +inf when nothing is output."""
    seqs = [s for s in lm_sequences(hyps) if s]
    if not seqs:
        return float("inf")
    usage = vocabulary_usage(seqs, lm)
    return lm.perplexity(seqs) / usage ** 2


def phone_lm(phones: Sequence[Sequence[int]], lm: LmConfig) -> NgramLM:
    """Phone n-gram LM of the unpaired text (phone-id sentences) as the criterion sees it:
    silence dropped, repeats merged."""
    return NgramLM.fit(lm_sequences(phones), order=lm.lm_phone_order, discount=lm.lm_discount,
                       vocab=[i for i in range(len(PHONES)) if i != SILENCE_ID])
