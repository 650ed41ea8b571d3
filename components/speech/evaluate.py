"""Scoring of recognised phones on test utterances: PER and confusion against the references
and, when a decoder is given, WER of the decoded words. Reporting only: nothing selects by it."""
from __future__ import annotations

from typing import Callable, Sequence

from pydantic import BaseModel

from components.speech.metrics import confusion_counts, phone_error_rate, word_error_rate
from components.speech.phones import PHONES, SILENCE_ID, strip_silence, words_of

Decoder = Callable[[list[list[str]]], list[list[str]]]  # phones per utterance -> words per utterance


class Evaluation(BaseModel):
    """One system on the test utterances (PER and WER are fractions, None when not computable)."""

    utterances: int
    per: float | None = None
    wer: float | None = None
    hyps: list[str]                          # recognised phones, silence removed, space separated
    words: list[str] | None = None           # decoded words, when decoded
    confusion: list[list[int]] | None = None  # reference x recognised counts (`confusion_counts`)
    criterion: float | None = None           # the unsupervised criterion of its output (baselines)


def score_phones(hyps: Sequence[Sequence[str]], refs: Sequence[Sequence[str]] | None, texts: Sequence[str],
                 decoder: Decoder | None = None) -> Evaluation:
    """PER and confusion of `hyps` (phone symbols per utterance) against `refs` (None: not
    scored); with `decoder`, words and, when every utterance has a transcript, WER."""
    ev = Evaluation(utterances=len(hyps), hyps=[" ".join(strip_silence(h)) for h in hyps])
    if refs is not None and refs:
        ev.per = phone_error_rate(refs, hyps)
        ev.confusion = confusion_counts(refs, hyps, [p for p in PHONES if p != PHONES[SILENCE_ID]])
    if decoder is not None:
        words = decoder([strip_silence(h) for h in hyps])
        ev.words = [" ".join(w) for w in words]
        if all(texts):
            ev.wer = word_error_rate([words_of(t) for t in texts], words)
    return ev
