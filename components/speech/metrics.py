"""Phone and word error rates by Levenshtein distance."""
from __future__ import annotations

from typing import Hashable, Sequence

from components.errors import InputError
from components.speech.phones import Lexicon, strip_silence, text_to_phones


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


def align_sequences(ref: Sequence[Hashable], hyp: Sequence[Hashable]) -> list[tuple[Hashable | None, Hashable | None]]:
    """One minimum-edit alignment as (ref item or None, hyp item or None) pairs, in order:
    matches and substitutions pair two items, deletions have hyp None, insertions ref None."""
    n, m = len(ref), len(hyp)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    out: list[tuple[Hashable | None, Hashable | None]] = []
    i, j = n, m
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            out.append((ref[i - 1], hyp[j - 1])); i -= 1; j -= 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            out.append((ref[i - 1], None)); i -= 1
        else:
            out.append((None, hyp[j - 1])); j -= 1
    return out[::-1]


def confusion_counts(refs: Sequence[Sequence[str]], hyps: Sequence[Sequence[str]],
                     labels: Sequence[str]) -> list[list[int]]:
    """(len(labels) + 1)^2 counts of (reference phone, recognised phone) over aligned pairs,
    silence removed; the extra last row/column stands for 'none' (insertions, deletions)."""
    index = {p: i for i, p in enumerate(labels)}
    none = len(labels)
    counts = [[0] * (none + 1) for _ in range(none + 1)]
    for r, h in zip(refs, hyps):
        for a, b in align_sequences(strip_silence(r), strip_silence(h)):
            counts[none if a is None else index[a]][none if b is None else index[b]] += 1
    return counts


def reference_phones(phones: Sequence[Sequence[str] | None], texts: Sequence[str],
                     lexicon: Lexicon | None = None) -> list[list[str]] | None:
    """Reference phones per utterance: flite's alignment (`phones`), else the transcript
    phonemised with `lexicon`; None when some utterance has neither (then PER is not computed)."""
    out = []
    for p, text in zip(phones, texts):
        if p is not None:
            out.append(list(p))
        elif text and lexicon is not None:
            try:
                out.append(text_to_phones(text, lexicon))
            except InputError:
                return None
        else:
            return None
    return out
