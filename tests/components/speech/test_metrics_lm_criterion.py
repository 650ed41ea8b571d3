import inspect
import itertools
import math

import pytest
from flashlight.lib.text.decoder.kenlm import KenLM
from flashlight.lib.text.dictionary import Dictionary

from components.errors import InputError
from components.speech import criterion
from components.speech.lm import EOS, NgramLM, write_arpa
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


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_arpa_read_by_kenlm_scores_as_the_lm(order, tmp_path):
    # KenLM's own backoff arithmetic on the file against the interpolated model, for every
    # history up to order-1 words: seen and unseen n-grams, a vocabulary word never seen
    # ("zebra"), a word outside the vocabulary ("never" -> <unk>) and the end mark
    sents = [s.split() for s in ["the cat sat", "the dog sat down", "a cat ran", "the cat ran down the road", "dog"]]
    lm = NgramLM.fit(sents, order=order, discount=0.6, vocab=["zebra"])
    write_arpa(lm, tmp_path / "lm.arpa")
    words = sorted(lm.vocab - {EOS}) + ["never"]
    index = Dictionary(words)
    kenlm = KenLM(str(tmp_path / "lm.arpa"), index)
    checked = 0
    for k in range(order):
        for history in itertools.product(words, repeat=k):
            state = kenlm.start(False)
            for w in history:
                state = kenlm.score(state, index.get_index(w))[0]
            for w in words:
                assert kenlm.score(state, index.get_index(w))[1] * math.log(10) == pytest.approx(
                    lm.logprob(w, history), abs=1e-5)
            assert kenlm.finish(state)[1] * math.log(10) == pytest.approx(lm.logprob(EOS, history), abs=1e-5)
            checked += len(words) + 1
    assert checked == sum(len(words) ** k for k in range(order)) * (len(words) + 1)


def test_arpa_offsets_shift_their_word_only(tmp_path):
    lm = NgramLM.fit([["a", "b"], ["b", "a", "a"]], order=2)
    write_arpa(lm, tmp_path / "plain.arpa")
    write_arpa(lm, tmp_path / "shifted.arpa", {"b": -0.25})
    index = Dictionary(["a", "b"])
    plain, shifted = KenLM(str(tmp_path / "plain.arpa"), index), KenLM(str(tmp_path / "shifted.arpa"), index)
    for history in ([], [0], [1]):
        states = [plain.start(False), shifted.start(False)]
        for w in history:
            states = [m.score(s, w)[0] for m, s in zip((plain, shifted), states)]
        for w, shift in ((0, 0.0), (1, -0.25)):
            assert shifted.score(states[1], w)[1] - plain.score(states[0], w)[1] == pytest.approx(shift, abs=1e-6)


def test_arpa_refuses_a_token_it_cannot_write(tmp_path):
    with pytest.raises(InputError, match="ARPA"):
        write_arpa(NgramLM.fit([["two words"]], order=2), tmp_path / "lm.arpa")


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
