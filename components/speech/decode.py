"""Phones -> words under a pronunciation lexicon and a word n-gram LM, two ways.

Both weigh the same costs, in nats: an input phone matched to the next phone of a word is
free, substituted costs `decode_sub_cost`, skipped `decode_del_cost`; a lexicon phone the
input lacks may be inserted between inputs (`decode_ins_cost`); each word costs its LM
log-prob x `decode_lm_weight` + `decode_word_penalty`; input silence is free between words.

`DecodeMethod.lexicon` (default): flashlight-text's CTC lexicon decoder with the word LM
written as ARPA and read by KenLM. The phone string becomes emissions (`phone_emissions`): one
frame per input phone (0 for that phone, -sub for the others, -del for blank), and around each a
"slack" frame where blank is free and any phone is an insertion (-ins); the slack frames also
give CTC the blank it needs between two equal phones. Hypotheses are in C++, LM look-ahead is
smeared over the trie; hypotheses merge only with the same word history (flashlight tells KenLM
states apart by identity), hence a wider beam than the Python one. The recogniser's per-segment
log-posteriors could serve as emissions directly (as wav2vec-U decodes); the stage decodes its
phone strings so that both decoders and the PER see the same input.

`DecodeMethod.beam`: the hand-written Python beam. It consumes the input phones left to right;
hypotheses sharing a trie node and LM context are recombined; the best `decode_beam` at a word
boundary and the best `decode_beam` inside words survive each step.
"""
from __future__ import annotations

import copy
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from flashlight.lib.text.decoder import (CriterionType, LexiconDecoder, LexiconDecoderOptions, SmearingMode,
                                         Trie)
from flashlight.lib.text.decoder.kenlm import KenLM
from flashlight.lib.text.dictionary import Dictionary

from components.errors import InputError
from components.speech.config import DecodeConfig, DecodeMethod, LmConfig
from components.speech.lm import BOS, EOS, UNK, NgramLM, write_arpa
from components.speech.phones import PHONE_INDEX, PHONES, SILENCE, SILENCE_ID, Lexicon

WordDecoder = Callable[[Sequence[str]], list[str]]  # one utterance's phones -> its words


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
    """Best word sequence for one utterance's phones (symbols of `PHONES`, silence allowed) by
    the Python beam. Returns [] for an input with no speech phones."""
    return beam_search(phones, trie, lm, cfg)[1]


def beam_search(phones: Sequence[str], trie: PronunciationTrie, lm: NgramLM,
                cfg: DecodeConfig) -> tuple[float, list[str]]:
    """The cost (nats) and words of the best hypothesis the Python beam finds."""
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
        return math.inf, []
    cost, back = min(finals, key=lambda f: f[0])
    words: list[str] = []
    while back is not None:
        words.append(back[0])
        back = back[1]
    return cost, words[::-1]


# Token ids of the lexicon decoder: the phones' class ids (silence included), then CTC blank.
BLANK = len(PHONES)
_IMPOSSIBLE = -1e4  # a phone where input silence is: never chosen (silence is not substituted)


def phone_emissions(phones: Sequence[str], cfg: DecodeConfig) -> np.ndarray:
    """(2 * len(phones) + 1, len(PHONES) + 1) float32 log-scores of a phone string for the CTC
    decoder: slack, phone 1, slack, ..., phone n, slack (columns: `PHONES` ids, then blank).

    A phone frame scores its phone 0, the other phones -sub (substitution), blank -del (the
    input phone is skipped) and silence -del (skipped between words). An input-silence frame
    scores silence 0 (free at the trie root) and blank -del (inside a word). A slack frame scores
    blank and silence 0 and every phone -ins (a lexicon phone that the input lacks).
    Raises InputError naming a symbol outside `PHONES`.
    """
    ids = []
    for p in phones:
        if p not in PHONE_INDEX:
            raise InputError(p, "is not a phone of the decoder's phone set")
        ids.append(PHONE_INDEX[p])
    table = np.full((len(PHONES) + 1, len(PHONES) + 1), -cfg.decode_sub_cost, dtype=np.float32)
    table[:, [SILENCE_ID, BLANK]] = -cfg.decode_del_cost
    table[np.arange(len(PHONES)), np.arange(len(PHONES))] = 0.0
    table[SILENCE_ID, :SILENCE_ID] = _IMPOSSIBLE
    table[SILENCE_ID, SILENCE_ID + 1:BLANK] = _IMPOSSIBLE
    table[BLANK] = -cfg.decode_ins_cost  # the slack row
    table[BLANK, [SILENCE_ID, BLANK]] = 0.0
    frames = np.full(2 * len(ids) + 1, BLANK)
    frames[1::2] = ids
    emissions = table[frames]
    # a tie-break: flashlight orders hypotheses of equal score by memory address, so exact ties
    # (frequent with a few constant costs) would make results vary from call to call; a fixed
    # offset per (frame, token) of k * 2^-20 (k < 1024: under 0.001 nats, exact in float32 for
    # costs up to 16) makes two paths tie only where their offsets happen to sum alike
    emissions -= np.random.default_rng(0).integers(0, 1024, emissions.shape).astype(np.float32) * np.float32(2 ** -20)
    return np.ascontiguousarray(emissions, dtype=np.float32)


class FlashlightDecoder:
    """flashlight-text's lexicon decoder over `lexicon`'s pronunciations with `lm` through KenLM.

    KenLM scores are log10, the emissions nats: the LM weight is scaled by ln 10 so that a word
    costs -decode_lm_weight * ln p(word | history) + decode_word_penalty, as in the beam. One
    search at a time per instance (the decoder keeps its hypotheses in the object).
    """

    def __init__(self, lexicon: Lexicon, lm: NgramLM, cfg: DecodeConfig) -> None:
        prons = {w: [p for p in ps if p] for w, ps in lexicon.entries.items()}
        self.words = sorted(w for w, ps in prons.items() if ps)
        if not self.words:
            raise InputError("lexicon", "has no pronunciations")
        self.cfg = cfg
        self._dict = Dictionary(self.words + [UNK])
        # homophones of equal counts tie exactly, and flashlight orders equal scores by memory
        # address: a distinct log10 offset per homophone (2e-6 apart, a few float32 steps; 500
        # homophones in the Bible text) keeps the choice the same from call to call
        spelled: dict[tuple[str, ...], list[str]] = {}
        for w in self.words:
            for pron in prons[w]:
                spelled.setdefault(pron, []).append(w)
        homophones = sorted({w for ws in spelled.values() if len(ws) > 1 for w in ws})
        offsets = {w: -2e-6 * (r + 1) for r, w in enumerate(homophones)}
        with tempfile.TemporaryDirectory() as tmp:
            arpa = Path(tmp) / "word_lm.arpa"
            write_arpa(lm, arpa, offsets)
            self._lm = KenLM(str(arpa), self._dict)
        self._trie = Trie(len(PHONES) + 1, SILENCE_ID)
        unigram = self._lm.start(True)
        for i, w in enumerate(self.words):
            score = self._lm.score(unigram, i)[1]  # look-ahead only: the word's LM score is exact
            for pron in prons[w]:
                self._trie.insert([PHONE_INDEX[p] for p in pron], i, score)
        self._trie.smear(SmearingMode.MAX)
        self._decoder = self._search(cfg)

    def _search(self, cfg: DecodeConfig) -> LexiconDecoder:
        options = LexiconDecoderOptions(
            beam_size=cfg.decode_beam, beam_size_token=len(PHONES) + 1, beam_threshold=cfg.decode_beam_threshold,
            lm_weight=cfg.decode_lm_weight * math.log(10), word_score=-cfg.decode_word_penalty,
            unk_score=-math.inf, sil_score=0.0, log_add=False, criterion_type=CriterionType.CTC)
        return LexiconDecoder(options, self._trie, self._lm, SILENCE_ID, BLANK, self._dict.get_index(UNK), [], False)

    def reconfigured(self, cfg: DecodeConfig) -> "FlashlightDecoder":
        """The same lexicon, LM and trie under other weights, costs or beam (no ARPA rebuilt)."""
        other = copy.copy(self)
        other.cfg, other._decoder = cfg, self._search(cfg)
        return other

    def __call__(self, phones: Sequence[str]) -> list[str]:
        """Best word sequence for one utterance's phones (symbols of `PHONES`, silence allowed);
        [] for an input with no speech phones."""
        if all(p == SILENCE for p in phones):
            return []
        return self.search(phones)[1]

    def search(self, phones: Sequence[str]) -> tuple[float, list[str]]:
        """The cost (nats, the beam's scale) and words of the best hypothesis found."""
        emissions = phone_emissions(phones, self.cfg)
        results = self._decoder.decode(emissions.ctypes.data, *emissions.shape)
        if not results:
            return math.inf, []
        return -results[0].score, [self.words[i] for i in results[0].words if i >= 0]


def word_lm(words: Sequence[Sequence[str]], lm: LmConfig) -> NgramLM:
    """Word n-gram LM of the unpaired text's sentences, for decoding."""
    return NgramLM.fit(words, order=lm.lm_word_order, discount=lm.lm_discount)


def word_decoder(lexicon: Lexicon, lm: NgramLM, cfg: DecodeConfig) -> WordDecoder:
    """The decoder `cfg.decode_method` names, built once for many utterances."""
    if cfg.decode_method is DecodeMethod.beam:
        trie = PronunciationTrie(lexicon)
        return lambda phones: decode_words(phones, trie, lm, cfg)
    return FlashlightDecoder(lexicon, lm, cfg)


def decode_sentences(phones: Sequence[Sequence[str]], lexicon: Lexicon, lm: NgramLM,
                     cfg: DecodeConfig) -> list[list[str]]:
    """Words of each utterance's phones, with one decoder (`word_decoder`) for all."""
    decode = word_decoder(lexicon, lm, cfg)
    return [decode(p) for p in phones]
