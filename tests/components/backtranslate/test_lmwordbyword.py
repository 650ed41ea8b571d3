"""Word-by-word translation searched with a target LM: candidate choice by context, local
reordering, and the plain word-by-word translation as its k=1, no-LM special case."""
import math

import numpy as np
import pytest
import torch

from components.backtranslate.config import LMWordByWordConfig
from components.backtranslate.lmwordbyword import Candidates, LMWordByWord, csls_candidates, lm_searches, target_lm
from components.backtranslate.wordbyword import csls_lexicon, translate_words
from components.backtranslate.train import new_model, prepare_corpora, train
from components.embeddings import Embeddings
from tests.components.backtranslate.conftest import cipher, cipher_pair, tiny_config
from components.speech.lm import NgramLM

ENGLISH = ["the white house is big", "a white house", "the white dog runs", "the house is old",
           "the bank of the river", "money in the bank", "the bank gives money"] * 3


def _search(candidates: dict, **overrides) -> LMWordByWord:
    config = LMWordByWordConfig(**overrides)
    return LMWordByWord(Candidates(candidates), target_lm(ENGLISH, config), config)


def test_the_lm_picks_the_fluent_candidate_when_the_lexical_scores_tie():
    cands = {"la": [("the", 0.5)], "banque": [("shore", 0.3), ("bank", 0.3)], "de": [("of", 0.5)],
             "rivière": [("river", 0.4)]}
    search = _search(cands, max_jump=0)
    assert search.translate(["la banque de la rivière"]) == ["the bank of the river"]
    # without the LM, the tie goes to the first candidate: the choice above is the LM's
    assert _search(cands, max_jump=0, lm_weight=0).translate(["la banque"]) == ["the shore"]


def test_reordering_fixes_a_planted_adjacent_swap():
    cands = {"la": [("the", 0.5)], "maison": [("house", 0.5)], "blanche": [("white", 0.5)],
             "est": [("is", 0.5)], "grande": [("big", 0.5)]}
    assert _search(cands, max_jump=1).translate(["la maison blanche est grande"]) == ["the white house is big"]
    # monotone search (the default) keeps the French order; a penalty above the LM's gain keeps it too
    assert _search(cands).translate(["la maison blanche"]) == ["the house white"]
    assert _search(cands, max_jump=1, reorder_penalty=100.0).translate(["la maison blanche"]) == ["the house white"]


def test_k1_without_lm_is_plain_word_by_word():
    pair = cipher_pair(noise=1.5)  # a noisy lexicon: some words are wrong, as in a real one
    src, tgt = pair.aligned
    config = LMWordByWordConfig(candidates=1, lm_weight=0.0)
    cands = csls_candidates(src, tgt, 1, csls_k=10)
    assert cands.top1() == csls_lexicon(src, tgt, 10)
    search = LMWordByWord(cands, target_lm(pair.test_tgt, config), config)
    sentences = pair.test_src + ["unknown tokens 42 are copied"]
    assert search.translate(sentences) == translate_words(sentences, csls_lexicon(src, tgt, 10))


def test_candidates_are_the_csls_top_k_best_first():
    rng = np.random.default_rng(3)
    src = Embeddings([f"s{i}" for i in range(30)], rng.normal(size=(30, 6)).astype(np.float32))
    tgt = Embeddings([f"t{i}" for i in range(40)], rng.normal(size=(40, 6)).astype(np.float32))
    cands = csls_candidates(src, tgt, 4, csls_k=5)
    assert cands.top1() == csls_lexicon(src, tgt, 5)
    for row in cands.words.values():
        scores = [s for _, s in row]
        assert len(row) == 4 and scores == sorted(scores, reverse=True) and len({w for w, _ in row}) == 4


def test_empty_sentence_and_output_length():
    search = _search({"la": [("the", 0.5), ("a", 0.4)], "maison": [("house", 0.5), ("home", 0.45)]})
    assert search.translate(["", "la maison la maison la"]) == ["", search.translate(["la maison la maison la"])[0]]
    assert len(search.translate_tokens("la maison la maison la".split())) == 5
    assert search.translate_tokens([]) == []


def test_lexical_scores_are_log_probabilities_over_the_candidates():
    search = _search({"x": [("a", 0.3), ("b", 0.2), ("c", 0.0)]}, temperature=0.1)
    probs = [np.exp(lp) for _, lp in search.options("x")]
    assert sum(probs) == pytest.approx(1.0)
    assert probs[0] / probs[1] == pytest.approx(np.e)  # a CSLS gap of 0.1 at temperature 0.1 is one nat


def test_warmup_pairs_are_the_lm_translations_of_a_training_sample(pair):
    base = tiny_config(steps=8, checkpoint_every=8, word_by_word_steps=6)
    config = base.model_copy(update={"lm_word_by_word": LMWordByWordConfig(warmup_sentences=100)})
    searches = lm_searches(pair.aligned, pair.train, config)
    data = prepare_corpora(pair.train, pair.valid, pair.vocabs, pair.lexicons, config, searches=searches)
    for lang in (0, 1):
        index, translated = data.warmup[lang]
        assert len(index) == len(set(index)) == 100 and max(index) < len(data.train[lang])
        for i, y in zip(index, translated):  # a clean cipher: the translation is the cipher (or its inverse)
            line = pair.train[lang][i]
            want = cipher(line) if lang == 0 else " ".join(w[1:] for w in line.split())
            assert pair.vocabs[1 - lang].decode(y) == want.split()
    assert prepare_corpora(pair.train, pair.valid, pair.vocabs, pair.lexicons, config).warmup is None
    result = train(new_model(config, pair.vocabs, pair.aligned, torch.device("cpu")), data, config)
    assert math.isfinite(result.history[-1]["bt_loss"]) and result.history[-1]["bt_loss"] > 0


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_the_searchs_memoised_lm_scores_are_the_lms_probabilities(order):
    # the search asks the LM's memoised logprob; every context (short ones padded with <s>) must
    # get its own entry, equal to the log of the uncached probability
    lm = _search({"x": [("a", 0.0)]}, lm_order=order).lm
    for _ in range(2):  # the second pass reads the memo
        for context in [(), ("the",), ("the", "white"), ("white", "house", "is"), ("unseen", "the")]:
            for word in ["house", "the", "money", "unseen", "</s>"]:
                assert lm.logprob(word, context) == math.log(lm.interpolated(word, lm._context(context)))


def test_with_identity_makes_a_shared_word_its_own_first_candidate_and_the_lm_decides():
    found = Candidates({"thee": [("thee", 0.2), ("you", 0.5)], "lord": [("god", 0.6), ("king", 0.4)],
                        "hath": [("has", 0.7), ("had", 0.3)]})
    both = found.with_identity({"thee", "lord", "has", "had", "you", "god", "king"})
    assert both.words["thee"] == [("thee", 0.2), ("you", 0.5)]           # first, with the best score
    assert both.words["lord"] == [("lord", 0.6), ("god", 0.6)]           # in, the last candidate out
    assert both.words["hath"] == found.words["hath"]                     # not in the other side: as found
    lm = NgramLM.fit([["you", "has", "lord"]] * 5, order=2)
    search = LMWordByWord(both, lm, LMWordByWordConfig(candidates=2))
    assert search.translate(["thee hath lord"]) == ["you has lord"]
