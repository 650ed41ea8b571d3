"""BLEU and chrF through sacrebleu: on tokenised text, and the standard score on detokenised text."""
import pytest
import sacrebleu

from components.backtranslate.catalog import ParallelTest
from components.backtranslate.metrics import (SCORE_KEYS, SIGNATURE_KEYS, STANDARD_KEYS, bleu, chrf,
                                              parallel_test_scores, standard_bleu, standard_scores)


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


HYP_FR = ["l' homme qu' il aime est là .", "jésus leur dit : suivez-moi !"]  # tokenised model output
RAW_FR = ["L’homme qu'il aime est là.", "Jésus leur dit: Suivez-moi!"]      # the verses as read
HYP_EN = ["he did n't go to the son 's house .", "follow me ."]
RAW_EN = ["He didn't go to the Son's house.", "Follow me, said he."]


def test_the_standard_score_is_sacrebleus_own_on_the_detokenised_text():
    scores = standard_scores(HYP_FR, HYP_EN, RAW_EN, RAW_FR, ("en", "fr"))  # en->fr, fr->en hypotheses
    detok_fr = ["l'homme qu'il aime est là.", "jésus leur dit: suivez-moi!"]  # written out by hand
    detok_en = ["he didn't go to the son's house.", "follow me."]
    assert scores["sacrebleu_s2t"] == pytest.approx(sacrebleu.corpus_bleu(detok_fr, [RAW_FR], lowercase=True).score)
    assert scores["sacrebleu_t2s"] == pytest.approx(sacrebleu.corpus_bleu(detok_en, [RAW_EN], lowercase=True).score)
    lower_fr = [r.lower() for r in RAW_FR]
    assert scores["sacrechrf_s2t"] == pytest.approx(sacrebleu.corpus_chrf(detok_fr, [lower_fr]).score)
    assert scores["sacrebleu_signature"] == "nrefs:1|case:lc|eff:no|tok:13a|smooth:exp|version:2.6.0"
    assert "case:lc" in scores["sacrechrf_signature"]


def test_the_standard_score_sees_case_and_spacing_no_more_but_does_see_the_raw_quotes():
    exact, _ = standard_bleu(["l'homme est là."], ["L'Homme est là."])
    assert exact == pytest.approx(100.0)
    assert standard_scores(["l' homme est là ."], ["x"], ["X"], ["L'Homme est là."], ("en", "fr"))[
        "sacrebleu_s2t"] == pytest.approx(100.0)
    curly, _ = standard_bleu(["l'homme est là."], ["L’homme est là."])  # the reference's own apostrophe
    assert curly < 100.0


def test_the_standard_score_is_left_out_for_a_test_without_raw_lines():
    old = parallel_test_scores(HYP_FR, HYP_EN, ParallelTest(HYP_EN, HYP_FR), ("en", "fr"))
    assert set(old) == set(SCORE_KEYS)
    new = parallel_test_scores(HYP_FR, HYP_EN, ParallelTest(HYP_EN, HYP_FR, (RAW_EN, RAW_FR)), ("en", "fr"))
    assert set(new) == set(SCORE_KEYS) | set(STANDARD_KEYS) | set(SIGNATURE_KEYS)
    assert {k: new[k] for k in SCORE_KEYS} == old
    with pytest.raises(ValueError, match="no hypotheses"):
        standard_bleu([], [])
