"""n-gram language models (phones for the selection criterion, words for decoding).

Interpolated absolute discounting: p(w|h) = max(c(hw) - D, 0) / c(h) + D * N1+(h.) / c(h) * p(w|h'),
down to a unigram interpolated with the uniform distribution over the vocabulary (+ end mark),
so every token, seen or not, gets a non-zero probability.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Hashable, Iterable, Sequence

from components.errors import InputError

BOS = "<s>"
EOS = "</s>"


@dataclass
class NgramLM:
    """An n-gram LM over hashable tokens. Build with `NgramLM.fit`."""

    order: int
    discount: float
    vocab: frozenset
    # counts[n][context] -> Counter(token -> count) for contexts of length n (0 .. order-1)
    counts: list[dict[tuple, Counter]] = field(default_factory=list)
    # derived from `counts`: per level, context -> (followers, total count, back-off mass D * N1+(h.) / c(h))
    _levels: list[dict[tuple, tuple[Counter, int, float]]] = field(default_factory=list, repr=False, compare=False)
    _memo: dict[tuple, float] = field(default_factory=dict, repr=False, compare=False)  # (token, context) -> log p

    def _index(self) -> "NgramLM":
        """Build the derived per-context entries that `interpolated` reads (after `counts` is set)."""
        d = self.discount
        self._levels = [{h: (f, t, d * len(f) / t) for h, f in level.items() if (t := sum(f.values()))}
                        for level in self.counts]
        self._memo = {}
        return self

    @classmethod
    def fit(cls, sentences: Iterable[Sequence[Hashable]], order: int, discount: float = 0.75,
            vocab: Iterable[Hashable] | None = None) -> "NgramLM":
        """Count n-grams of `sentences` (each padded with BOS on the left and EOS at the end).

        `vocab` adds tokens that may be unseen (they get the uniform share).
        """
        if order < 1:
            raise ValueError("order must be >= 1")
        counts: list[dict[tuple, Counter]] = [defaultdict(Counter) for _ in range(order)]
        seen: set = set(vocab or ())
        for sent in sentences:
            toks = [BOS] * (order - 1) + list(sent) + [EOS]
            seen.update(sent)
            for i in range(order - 1, len(toks)):
                for n in range(order):
                    counts[n][tuple(toks[i - n:i])][toks[i]] += 1
        lm = cls(order=order, discount=discount, vocab=frozenset(seen) | {EOS},
                 counts=[dict(c) for c in counts])
        return lm._index()

    def _context(self, context: Sequence[Hashable]) -> tuple:
        """The last order-1 tokens of `context`, padded with BOS on the left."""
        ctx = tuple(context)[-(self.order - 1):] if self.order > 1 else ()
        if len(ctx) < self.order - 1:
            ctx = (BOS,) * (self.order - 1 - len(ctx)) + ctx
        return ctx

    def prob(self, token: Hashable, context: Sequence[Hashable]) -> float:
        """p(token | context); the context is cut to the last order-1 tokens."""
        return self.interpolated(token, self._context(context))

    def interpolated(self, token: Hashable, context: tuple) -> float:
        """p(token | context) interpolated from the uniform share up to the level of `context`
        as given (at most order-1 tokens, no BOS padding): the lower-order models of `prob`."""
        if len(context) >= self.order:
            raise ValueError(f"context of {len(context)} tokens for an order-{self.order} model")
        p = 1.0 / len(self.vocab)
        d = self.discount
        for n in range(len(context) + 1):
            entry = self._levels[n].get(context[len(context) - n:] if n else ())
            if entry is not None:
                followers, total, backoff = entry
                p = max(followers.get(token, 0) - d, 0) / total + backoff * p
        return p

    def logprob(self, token: Hashable, context: Sequence[Hashable]) -> float:
        """Natural log of `prob`, memoised: decoders and searches ask the same queries many times."""
        key = (token, self._context(context))
        v = self._memo.get(key)
        if v is None:
            if len(self._memo) > 1_000_000:  # a cache: bound its memory
                self._memo.clear()
            v = self._memo[key] = math.log(self.interpolated(token, key[1]))
        return v

    def sentence_logprob(self, sent: Sequence[Hashable]) -> float:
        """log p(sent, EOS), natural log."""
        ctx: list = [BOS] * (self.order - 1)
        total = 0.0
        for tok in list(sent) + [EOS]:
            total += self.logprob(tok, ctx)
            ctx.append(tok)
        return total

    def perplexity(self, sentences: Sequence[Sequence[Hashable]]) -> float:
        """exp(-mean log-prob per token), end marks counted as tokens."""
        n = sum(len(s) + 1 for s in sentences)
        if n == 0:
            raise ValueError("no sentences to score")
        return math.exp(-sum(self.sentence_logprob(s) for s in sentences) / n)

    def to_json(self) -> dict:
        """A JSON-ready dict of the counts (string tokens only, as word LMs have)."""
        return {"order": self.order, "discount": self.discount, "vocab": sorted(map(str, self.vocab)),
                "counts": [[[list(h), dict(c)] for h, c in level.items()] for level in self.counts]}

    @classmethod
    def from_json(cls, data: dict) -> "NgramLM":
        """Inverse of `to_json`."""
        lm = cls(order=int(data["order"]), discount=float(data["discount"]), vocab=frozenset(data["vocab"]),
                 counts=[{tuple(h): Counter(c) for h, c in level} for level in data["counts"]])
        return lm._index()


UNK = "<unk>"


def write_arpa(lm: NgramLM, path: Path, offsets: dict[str, float] | None = None) -> None:
    """Write a word LM (string tokens) as an ARPA backoff model that scores as `lm.prob` does;
    `offsets` (log10) are added to every probability of their word (a decoder's tie-breaks).

    Interpolated absolute discounting gives a word w unseen after h the probability
    lambda(h) * p(w|h'), so the backoff form is exact: each seen n-gram gets its interpolated
    log10 probability and each context the weight alpha(h) = p(x|h) / p(x|h'), read off at a
    token x seen nowhere. ARPA sentences start with one <s> where `lm` pads order-1 of them:
    the context '<s> w..' stands for the fully padded one (the partly padded lower levels see
    the same counts and are folded into it). <unk> gets the share of an unseen word.
    """
    order, unseen = lm.order, object()

    def full(h: tuple) -> tuple:  # an ARPA context -> the context `lm` conditions on
        return (BOS,) * (order - len(h)) + h[1:] if h[:1] == (BOS,) else h

    def arpa_context(n: int, h: tuple) -> tuple | None:
        if BOS not in h:
            return h
        return (BOS,) + tuple(t for t in h if t != BOS) if n == order - 1 else None

    # n-gram -> log10 prob; KenLM reads bigram models and up, so a unigram LM gets no bigrams
    grams: list[dict[tuple, float]] = [{} for _ in range(max(order, 2))]
    backoff: dict[tuple, float] = {}
    for n, level in enumerate(lm.counts):
        for h, followers in level.items():
            ctx = arpa_context(n, h)
            if ctx is None:
                continue
            for w in followers:
                grams[len(ctx)][ctx + (w,)] = math.log10(lm.interpolated(w, full(ctx)))
            if ctx:
                backoff[ctx] = math.log10(lm.interpolated(unseen, full(ctx)) / lm.interpolated(unseen, full(ctx[1:])))
    for w in list(lm.vocab) + [UNK]:
        grams[0].setdefault((w,), math.log10(lm.interpolated(w if w != UNK else unseen, ())))
    grams[0][(BOS,)] = -99.0  # never predicted; present as the start context
    for g in grams[0]:
        if not isinstance(g[0], str) or not g[0] or any(c.isspace() for c in g[0]):
            raise InputError(repr(g[0]), "cannot be written as an ARPA word")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\\data\\\n" + "".join(f"ngram {n + 1}={len(g)}\n" for n, g in enumerate(grams)))
        for n, level in enumerate(grams):
            f.write(f"\n\\{n + 1}-grams:\n")
            for gram, logp in level.items():
                bo = backoff.get(gram)
                logp += offsets.get(gram[-1], 0.0) if offsets else 0.0
                f.write(f"{logp:.7f}\t{' '.join(gram)}" + (f"\t{bo:.7f}\n" if bo is not None and n < order - 1 else "\n"))
        f.write("\n\\end\\\n")
