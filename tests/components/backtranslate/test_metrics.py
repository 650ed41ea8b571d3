"""BLEU and chrF through sacrebleu on tokenised text."""
import pytest

from components.backtranslate.metrics import bleu, chrf


def test_identical_text_scores_100_and_unrelated_text_scores_low():
    refs = ["and jesus said unto them , follow me .", "the son of david ."]
    assert bleu(refs, refs) == pytest.approx(100.0)
    assert chrf(refs, refs) == pytest.approx(100.0)
    assert bleu(["x y z w", "q r s t"], refs) < 1.0


def test_no_tokenisation_of_its_own():
    # with tokenize='none' "don't" is one token and does not match "don ' t"
    assert bleu(["a b c don't"], ["a b c don ' t"]) < 100.0


def test_mismatched_lengths_are_refused_and_empty_is_zero():
    with pytest.raises(ValueError):
        bleu(["a"], [])
    assert bleu([], []) == 0.0 and chrf([], []) == 0.0
