from components.speech.config import DecodeConfig
from components.speech.decode import PronunciationTrie, decode_words
from components.speech.lm import NgramLM
from components.speech.phones import SILENCE, Lexicon, text_to_phones

LEX = Lexicon({
    "in": [("ih", "n")], "the": [("dh", "ah"), ("dh", "iy")], "beginning": [("b", "ih", "g", "ih", "n", "ih", "ng")],
    "god": [("g", "aa", "d")], "created": [("k", "r", "iy", "ey", "t", "ah", "d")],
    "heaven": [("hh", "eh", "v", "ah", "n")], "and": [("ah", "n", "d")], "earth": [("er", "th")],
    "an": [("ah", "n")], "dee": [("d", "iy")], "begin": [("b", "ih", "g", "ih", "n")],
    "inning": [("ih", "n", "ih", "ng")],
}, use_t2p=False)
TEXT = ["in the beginning god created the heaven and the earth",
        "and god created the earth", "the heaven and the earth"]


def _setup():
    lm = NgramLM.fit([t.split() for t in TEXT], order=2)
    return PronunciationTrie(LEX), lm


def test_exact_phone_strings_decode_to_their_words():
    trie, lm = _setup()
    for sent in TEXT:
        phones = text_to_phones(sent, LEX)
        assert decode_words(phones, trie, lm, DecodeConfig()) == sent.split()


def test_decoder_repairs_a_substituted_phone_and_ignores_silence():
    trie, lm = _setup()
    phones = ["sil", "ah", "n", "d", SILENCE, "g", "ao", "d", "k", "r", "iy", "ey", "t", "ah", "d", "sil"]
    assert decode_words(phones, trie, lm, DecodeConfig()) == ["and", "god", "created"]
    assert decode_words([SILENCE], trie, lm, DecodeConfig()) == []


def test_noisy_phones_still_give_words():
    trie, lm = _setup()
    phones = text_to_phones(TEXT[0], LEX)
    noisy = [("ae" if p == "ah" else p) for p in phones if p != "hh"]  # substitutions + a deletion
    words = decode_words(noisy, trie, lm, DecodeConfig(decode_beam=4))
    assert len(words) >= 8 and words[-2:] == ["the", "earth"]
