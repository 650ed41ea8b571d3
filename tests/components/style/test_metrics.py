"""PINC and self-BLEU: a copy, a full rewrite, and a pair computed by hand."""
import pytest

from components.style.metrics import pinc, self_bleu

SOURCES = ["thou art the king of israel", "and the lord said unto moses"]


def test_pinc_of_a_copy_is_0_and_of_a_rewrite_100():
    assert pinc(SOURCES, SOURCES) == 0.0
    assert pinc(SOURCES, ["you are a ruler", "god told him"]) == 100.0


def test_pinc_by_hand():
    # 'a b x' against 'a b c d': unigrams 1 - 2/3, bigrams {ab, bx} 1 - 1/2, trigram 1, no 4-gram
    # (skipped): 11/18; a copy: 0; the mean over the two pairs
    assert pinc(["a b c d", "a b"], ["a b x", "a b"]) == pytest.approx(100 * 11 / 18 / 2)
    # n-gram sets, not counts: 'a a a' has one unigram, in the source; 'a a' and 'a a a' are not
    assert pinc(["a"], ["a a a"]) == pytest.approx(100 * 2 / 3)
    # an empty output has no n-grams and is left out
    assert pinc(["a b", "c"], ["a b", ""]) == 0.0


def test_pinc_refuses_what_it_cannot_score():
    with pytest.raises(ValueError):
        pinc(["a"], ["a", "b"])
    with pytest.raises(ValueError):
        pinc(["a"], [""])


def test_self_bleu_of_a_copy_is_100_and_of_a_rewrite_near_0():
    assert self_bleu(SOURCES, SOURCES) == pytest.approx(100.0)
    assert self_bleu(SOURCES, ["you are a ruler", "god told him"]) < 1.0
