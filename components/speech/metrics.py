"""Phone and word error rates by Levenshtein distance."""
from __future__ import annotations

from typing import Hashable, Sequence

from components.speech.phones import strip_silence


def edit_distance(ref: Sequence[Hashable], hyp: Sequence[Hashable]) -> int:
    """Minimum substitutions + insertions + deletions turning `ref` into `hyp`."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def error_rate(refs: Sequence[Sequence[Hashable]], hyps: Sequence[Sequence[Hashable]]) -> float:
    """Corpus error rate: total edit distance / total reference length (a fraction; may
    exceed 1 when hypotheses insert). Raises ValueError on mismatched lengths or empty refs."""
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    total = sum(len(r) for r in refs)
    if total == 0:
        raise ValueError("references are empty")
    return sum(edit_distance(r, h) for r, h in zip(refs, hyps)) / total


def phone_error_rate(refs: Sequence[Sequence[str]], hyps: Sequence[Sequence[str]]) -> float:
    """PER with silence removed from both sides and repeated phones collapsed in neither
    (references are phone strings, hypotheses are already merged outputs)."""
    return error_rate([strip_silence(r) for r in refs], [strip_silence(h) for h in hyps])


def word_error_rate(refs: Sequence[Sequence[str]], hyps: Sequence[Sequence[str]]) -> float:
    """WER over word sequences (already tokenised and lower-cased)."""
    return error_rate(refs, hyps)
