import shutil

import pytest

from components.errors import InputError
from components.speech.phones import (PHONES, SILENCE, Lexicon, decode_ids, encode, merge_repeats,
                                      normalise_phone, strip_silence, text_to_phones, words_of)


def test_phone_set_is_39_cmu_phones_plus_silence():
    assert len(PHONES) == 40 and len(set(PHONES)) == 40 and PHONES[-1] == SILENCE


@pytest.mark.parametrize("symbol,phone", [("AH0", "ah"), ("ax", "ah"), ("pau", SILENCE),
                                          ("IY1", "iy"), ("axr", "er"), ("ng", "ng")])
def test_every_source_folds_into_one_set(symbol, phone):
    assert normalise_phone(symbol) == phone


def test_unknown_phone_is_named():
    with pytest.raises(InputError, match="qq"):
        normalise_phone("qq")


def test_encode_decode_round_trip_and_helpers():
    assert decode_ids(encode(["dh", "AH0", "pau"])) == ["dh", "ah", SILENCE]
    assert merge_repeats([1, 1, 2, 1, 1]) == [1, 2, 1]
    assert strip_silence(["sil", "k", "sil"]) == ["k"]
    assert words_of("Let there be light: [and] God's") == ["let", "there", "be", "light", "and", "god's"]


def test_text_to_phones_places_silence_like_flite():
    lex = Lexicon({"hello": [("hh", "ah", "l", "ow")], "world": [("w", "er", "l", "d")]}, use_t2p=False)
    assert text_to_phones("Hello, world.", lex) == [SILENCE, "hh", "ah", "l", "ow", SILENCE,
                                                    "w", "er", "l", "d", SILENCE]
    assert text_to_phones("Hello world", lex, pauses=False)[-1] == "d"


def test_text_without_phonemisable_words_raises_naming_it():
    lex = Lexicon({}, use_t2p=False)
    with pytest.raises(InputError, match="zzz"):
        text_to_phones("zzz, ...", lex)


@pytest.mark.skipif(shutil.which("t2p") is None, reason="flite's t2p is not installed")
def test_out_of_vocabulary_words_use_t2p():
    lex = Lexicon({}, use_t2p=True)
    pron = lex.pronounce("zerubbabel")
    assert pron and all(p in PHONES and p != SILENCE for p in pron)
