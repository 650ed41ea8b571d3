"""Phones -> words: beam search over a pronunciation trie, scored by a word n-gram LM.

The search consumes the input phones left to right. Each step a hypothesis either matches
the phone to the next phone of a word in the trie (free), substitutes it (`decode_sub_cost`),
or skips it (`decode_del_cost`); between inputs it may insert a lexicon phone the input lacks
(`decode_ins_cost`) or finish a word (word LM cost x `decode_lm_weight` + `decode_word_penalty`).
Silence in the input is free at a word boundary. Costs are in nats; hypotheses sharing a trie
node and LM context are recombined; the best `decode_beam` at a word boundary and the best
`decode_beam` inside words survive each step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from components.errors import InputError
from components.speech.config import DecodeConfig, LmConfig
from components.speech.lm import BOS, EOS, NgramLM
from components.speech.phones import SILENCE, Lexicon


@dataclass
class _Node:
    children: dict[str, int]
    words: list[str]


class PronunciationTrie:
    """Prefix tree of the lexicon's pronunciations (node 0 is the root)."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.nodes: list[_Node] = [_Node({}, [])]
        for word, prons in lexicon.entries.items():
            for pron in prons:
                if pron:
                    self._add(pron, word)
        if len(self.nodes) == 1:
            raise InputError("lexicon", "has no pronunciations")

    def _add(self, pron: Sequence[str], word: str) -> None:
        node = 0
        for p in pron:
            nxt = self.nodes[node].children.get(p)
            if nxt is None:
                nxt = len(self.nodes)
                self.nodes.append(_Node({}, []))
                self.nodes[node].children[p] = nxt
            node = nxt
        if word not in self.nodes[node].words:
            self.nodes[node].words.append(word)


# A hypothesis: (cost, trie node, LM context, backpointer to its words as a linked list)
_Hyp = tuple[float, int, tuple, tuple | None]


def decode_words(phones: Sequence[str], trie: PronunciationTrie, lm: NgramLM,
                 cfg: DecodeConfig) -> list[str]:
    """Best word sequence for one utterance's phones (symbols of `PHONES`, silence allowed).

    Returns [] for an input with no speech phones.
    """
    order = lm.order
    start_ctx = (BOS,) * (order - 1)
    beam: dict[tuple, _Hyp] = {(0, start_ctx): (0.0, 0, start_ctx, None)}
    lp_cache: dict[tuple, float] = {}

    def lm_cost(word: str, ctx: tuple) -> float:
        key = (word, ctx)
        if key not in lp_cache:
            lp_cache[key] = -cfg.decode_lm_weight * lm.logprob(word, ctx) + cfg.decode_word_penalty
        return lp_cache[key]

    def keep(store: dict, hyp: _Hyp) -> None:
        key = (hyp[1], hyp[2])
        old = store.get(key)
        if old is None or hyp[0] < old[0]:
            store[key] = hyp

    def close(store: dict) -> dict:
        """Add word ends and one insertion (then word ends again) to the hypotheses."""
        for _ in range(2):
            for cost, node, ctx, back in list(store.values()):
                for w in trie.nodes[node].words:
                    keep(store, (cost + lm_cost(w, ctx), 0, (ctx + (w,))[1:] if order > 1 else (), (w, back)))
            if _ == 0:
                for cost, node, ctx, back in list(store.values()):
                    for child in trie.nodes[node].children.values():
                        keep(store, (cost + cfg.decode_ins_cost, child, ctx, back))
        return store

    def prune(store: dict) -> dict:
        # word-boundary and within-word hypotheses get a beam each: a word-boundary one has
        # just paid its word's LM cost and would otherwise always lose to within-word ones
        ranked = sorted(store.items(), key=lambda kv: kv[1][0])
        at_root = [kv for kv in ranked if kv[1][1] == 0][: cfg.decode_beam]
        inside = [kv for kv in ranked if kv[1][1] != 0][: cfg.decode_beam]
        return dict(at_root + inside)

    beam = prune(close(beam))
    for p in phones:
        nxt: dict[tuple, _Hyp] = {}
        for cost, node, ctx, back in beam.values():
            if p == SILENCE:
                keep(nxt, (cost if node == 0 else cost + cfg.decode_del_cost, node, ctx, back))
                continue
            keep(nxt, (cost + cfg.decode_del_cost, node, ctx, back))
            for q, child in trie.nodes[node].children.items():
                keep(nxt, (cost + (0.0 if q == p else cfg.decode_sub_cost), child, ctx, back))
        beam = prune(close(nxt))
    finals = [(cost - lm.logprob(EOS, ctx) * cfg.decode_lm_weight, back)
              for cost, node, ctx, back in beam.values() if node == 0]
    if not finals:
        return []
    back = min(finals, key=lambda f: f[0])[1]
    words: list[str] = []
    while back is not None:
        words.append(back[0])
        back = back[1]
    return words[::-1]


def word_lm(words: Sequence[Sequence[str]], lm: LmConfig) -> NgramLM:
    """Word n-gram LM of the unpaired text's sentences, for decoding."""
    return NgramLM.fit(words, order=lm.lm_word_order, discount=lm.lm_discount)


def decode_sentences(phones: Sequence[Sequence[str]], lexicon: Lexicon, lm: NgramLM,
                     cfg: DecodeConfig) -> list[list[str]]:
    """`decode_words` of each utterance's phones, with one trie of `lexicon`."""
    trie = PronunciationTrie(lexicon)
    return [decode_words(p, trie, lm, cfg) for p in phones]
