import inspect
import math

import pytest

from components.speech import criterion
from components.speech.lm import EOS, NgramLM
from components.speech.metrics import edit_distance, error_rate, phone_error_rate


def test_edit_distance_known_cases():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], [1, 2]) == 2
    assert edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert edit_distance(["a", "b"], ["b", "a"]) == 2


def test_error_rates():
    refs = [["k", "ae", "t"], ["d", "ao", "g"]]
    assert phone_error_rate(refs, refs) == 0.0
    assert phone_error_rate([["sil", "k", "ae", "t", "sil"]], [["k", "ae", "t"]]) == 0.0
    assert error_rate(refs, [["k", "ae"], []]) == pytest.approx(4 / 6)
    with pytest.raises(ValueError):
        error_rate(refs, [[]])


def test_ngram_lm_is_normalised_and_prefers_seen_text():
    sents = [["a", "b", "c"], ["a", "b", "b", "c"], ["c", "a"]]
    lm = NgramLM.fit(sents, order=3, vocab=["d"])
    for ctx in ([], ["a"], ["a", "b"], ["d", "d"]):
        total = sum(lm.prob(t, ctx) for t in lm.vocab)
        assert total == pytest.approx(1.0, abs=1e-9)
    assert lm.prob("d", ["a", "b"]) > 0
    assert lm.perplexity([["a", "b", "c"]]) < lm.perplexity([["c", "b", "a"]])
    assert EOS in lm.vocab


def test_criterion_prefers_text_like_varied_output():
    text = [[1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 1], [3, 4, 5, 6, 1, 2]] * 5
    lm = NgramLM.fit(text, order=3, vocab=range(1, 7))
    good = criterion.weighted_lm_ppl([[1, 2, 3, 4, 5, 6], [4, 5, 6, 1]], lm)
    scrambled = criterion.weighted_lm_ppl([[6, 1, 5, 2, 4, 3], [3, 1, 4, 6]], lm)
    collapsed = criterion.weighted_lm_ppl([[1, 1, 1], [1]], lm)  # low usage is punished
    assert good < scrambled and good < collapsed
    assert math.isinf(criterion.weighted_lm_ppl([[]], lm))


def test_criterion_takes_no_transcript():
    params = inspect.signature(criterion.weighted_lm_ppl).parameters
    assert list(params) == ["hyps", "lm"]
