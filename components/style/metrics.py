"""How much a style transfer changed its input: PINC and self-BLEU, on tokenised text.

Both compare each output with its own input, not with a reference. For the perplexity of the
outputs under a target-style n-gram LM use `NgramLM.perplexity` (components/speech/lm.py) directly:
`lm.perplexity([s.split() for s in outputs])`.
"""
from __future__ import annotations

from collections.abc import Sequence

from components.backtranslate.metrics import bleu


def _ngrams(tokens: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def pinc(sources: Sequence[str], outputs: Sequence[str], max_n: int = 4) -> float:
    """PINC (Chen & Dolan 2011), 0..100: the mean over sentence pairs of the mean over
    n = 1..max_n of the share of the output's distinct n-grams absent from its source.

    0: every output n-gram is in the source (a copy); 100: none is. An n the output is too short
    for is left out of its pair's mean; a pair with an empty output is left out altogether (it
    has no n-grams to judge). ValueError for mismatched lengths or nothing left to score.
    """
    if len(sources) != len(outputs):
        raise ValueError(f"{len(outputs)} outputs for {len(sources)} sources")
    if max_n < 1:
        raise ValueError(f"max_n must be >= 1, got {max_n}")
    scores = []
    for source, output in zip(sources, outputs):
        src, out = source.split(), output.split()
        novel = [1 - len(grams & _ngrams(src, n)) / len(grams)
                 for n in range(1, max_n + 1) if (grams := _ngrams(out, n))]
        if novel:
            scores.append(sum(novel) / len(novel))
    if not scores:
        raise ValueError("no non-empty outputs to score")
    return 100 * sum(scores) / len(scores)


def self_bleu(sources: Sequence[str], outputs: Sequence[str]) -> float:
    """Corpus BLEU (0-100) of the outputs against their own inputs, on tokens: 100 for a copy."""
    return bleu(outputs, sources)
