import random

import numpy as np
import pytest

from components.errors import InputError
from components.speech.config import DecodeConfig, DecodeMethod
from components.speech.decode import (BLANK, FlashlightDecoder, PronunciationTrie, beam_search, decode_sentences,
                                      phone_emissions, word_decoder)
from components.speech.lm import NgramLM
from components.speech.phones import PHONE_INDEX, PHONES, SILENCE, Lexicon, text_to_phones

LEX = Lexicon({
    "in": [("ih", "n")], "the": [("dh", "ah"), ("dh", "iy")], "beginning": [("b", "ih", "g", "ih", "n", "ih", "ng")],
    "god": [("g", "aa", "d")], "created": [("k", "r", "iy", "ey", "t", "ah", "d")],
    "heaven": [("hh", "eh", "v", "ah", "n")], "and": [("ah", "n", "d")], "earth": [("er", "th")],
    "an": [("ah", "n")], "dee": [("d", "iy")], "begin": [("b", "ih", "g", "ih", "n")],
    "inning": [("ih", "n", "ih", "ng")],
}, use_t2p=False)
TEXT = ["in the beginning god created the heaven and the earth",
        "and god created the earth", "the heaven and the earth"]
METHODS = list(DecodeMethod)


def _lm() -> NgramLM:
    return NgramLM.fit([t.split() for t in TEXT], order=2)


@pytest.mark.parametrize("method", METHODS)
def test_exact_phone_strings_decode_to_their_words(method):
    decode = word_decoder(LEX, _lm(), DecodeConfig(decode_method=method))
    for sent in TEXT:
        assert decode(text_to_phones(sent, LEX)) == sent.split()


@pytest.mark.parametrize("method", METHODS)
def test_substitution_deletion_insertion_and_silence(method):
    decode = word_decoder(LEX, _lm(), DecodeConfig(decode_method=method))
    # "god" with aa -> ao substituted, "created" lacking its r (an insertion for the decoder),
    # "the" followed by a stray t (a deletion), silence between and around words
    phones = ["sil", "ah", "n", "d", SILENCE, "g", "ao", "d", "k", "iy", "ey", "t", "ah", "d", "dh", "ah", "t",
              "er", "th", "sil"]
    assert decode(phones) == ["and", "god", "created", "the", "earth"]
    assert decode([SILENCE]) == [] and decode([SILENCE, SILENCE]) == [] and decode([]) == []


@pytest.mark.parametrize("method", METHODS)
def test_noisy_phones_still_give_words(method):
    phones = text_to_phones(TEXT[0], LEX)
    noisy = [("ae" if p == "ah" else p) for p in phones if p != "hh"]  # substitutions + a deletion
    words = word_decoder(LEX, _lm(), DecodeConfig(decode_method=method, decode_beam=4))(noisy)
    assert len(words) >= 8 and words[-2:] == ["the", "earth"]


def test_lexicon_decoder_reaches_the_beams_best_cost():
    # with beams wide enough to be exact on this lexicon, both searches optimise the same costs:
    # the CTC decoder over the emissions must reach the cost the Python beam finds
    rng = random.Random(0)
    cfg = DecodeConfig(decode_beam=300, decode_beam_threshold=1000.0, decode_lm_weight=0.7, decode_word_penalty=0.5,
                       decode_sub_cost=3.0, decode_del_cost=2.5, decode_ins_cost=3.5)
    lm = NgramLM.fit([t.split() for t in TEXT], order=3)
    fast, trie = FlashlightDecoder(LEX, lm, cfg), PronunciationTrie(LEX)
    speech = [p for p in PHONES if p != SILENCE]
    for _ in range(12):
        phones = [rng.choice(speech) if rng.random() < 0.2 else p for p in text_to_phones(rng.choice(TEXT), LEX)
                  if rng.random() > 0.1]
        phones.insert(rng.randrange(len(phones) + 1), rng.choice(speech))
        best = beam_search(phones, trie, lm, cfg)[0]
        tie_breaks = (2 * len(phones) + 1) * 2 ** -10  # what the emissions' tie-break offsets add at most
        assert best - 1e-6 <= fast.search(phones)[0] <= best + tie_breaks


def test_batched_equals_one_by_one():
    lm, cfg = _lm(), DecodeConfig()
    batch = [text_to_phones(t, LEX) for t in TEXT] + [["g", "ao", "d"], [SILENCE], ["ah", "n", "d", "er", "th"]]
    together = decode_sentences(batch, LEX, lm, cfg)
    alone = [decode_sentences([p], LEX, lm, cfg)[0] for p in reversed(batch)][::-1]
    assert together == alone and together[:3] == [t.split() for t in TEXT]


def test_phone_emissions_encode_the_edit_costs():
    cfg = DecodeConfig(decode_sub_cost=1.0, decode_del_cost=2.0, decode_ins_cost=3.0)
    e = phone_emissions(["g", SILENCE, "g"], cfg)
    g, sil = PHONE_INDEX["g"], PHONE_INDEX[SILENCE]
    assert e.shape == (7, len(PHONES) + 1) and e.dtype == np.float32
    assert np.array_equal(e, phone_emissions(["g", SILENCE, "g"], cfg))
    assert len(np.unique(e[1])) > 3 and (e <= 0).all()  # offsets tell equal costs apart
    e = e.round(2)  # the tie-break offsets are under 0.001
    assert all(e[t, BLANK] == 0 and e[t, sil] == 0 and e[t, g] == -3 for t in (0, 2, 4, 6))  # slack
    assert e[1, g] == 0 and e[1, PHONE_INDEX["k"]] == -1 and e[1, BLANK] == -2 and e[1, sil] == -2
    assert e[3, sil] == 0 and e[3, BLANK] == -2 and e[3, g] < -100
    with pytest.raises(InputError, match="xx"):
        phone_emissions(["g", "xx"], cfg)


def test_empty_lexicon_is_refused():
    with pytest.raises(InputError, match="lexicon"):
        FlashlightDecoder(Lexicon({"x": [()]}, use_t2p=False), _lm(), DecodeConfig())


def test_reconfigured_decoder_equals_a_fresh_one():
    lm = _lm()
    base = FlashlightDecoder(LEX, lm, DecodeConfig())
    phones = [p for p in text_to_phones(TEXT[0], LEX) if p != "g"] + ["k"]
    for cfg in (DecodeConfig(decode_lm_weight=2.0, decode_word_penalty=3.0), DecodeConfig(decode_ins_cost=0.5)):
        (cost, words), (fresh_cost, fresh_words) = base.reconfigured(cfg).search(phones), \
            FlashlightDecoder(LEX, lm, cfg).search(phones)
        assert cost == pytest.approx(fresh_cost) and words == fresh_words
        assert cost != pytest.approx(base.search(phones)[0])


def test_homophones_of_equal_counts_decode_the_same_every_time():
    # equal LM scores tie exactly, and flashlight would order the tie by memory address
    lex = Lexicon({"the": [("dh", "ah")], "hoary": [("hh", "ao", "r", "iy")], "hori": [("hh", "ao", "r", "iy")],
                   "whorey": [("hh", "ao", "r", "iy")]}, use_t2p=False)
    lm = NgramLM.fit([["the", "hoary"], ["the", "hori"], ["the", "whorey"]], order=2)
    phones = ["dh", "ah", "hh", "ao", "r", "iy", "dh", "ah", "hh", "ao", "r", "iy"]
    outputs = set()
    for _ in range(5):
        decode = FlashlightDecoder(lex, lm, DecodeConfig())
        outputs.update(tuple(decode(phones)) for _ in range(10))
    assert len(outputs) == 1 and len(next(iter(outputs))) == 4
