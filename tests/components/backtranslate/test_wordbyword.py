"""Word-by-word translation: CSLS lexicon over a planted shared space, copying unknown tokens."""
import numpy as np
import pytest

from components.embeddings import Embeddings
from components.backtranslate.catalog import ParallelTest
from components.backtranslate.metrics import translation_scores
from components.backtranslate.vocab import SPECIALS, UNK_ID, Vocabulary
from components.backtranslate.wordbyword import (csls_lexicon, csls_lexicons, evaluate_word_by_word, id_map,
                                                 translate_words, unknown_fills)
from tests.components.backtranslate.conftest import cipher_pair


def brute_force_csls(src: Embeddings, tgt: Embeddings, k: int) -> dict[str, str]:
    """CSLS straight from its definition (Conneau et al. 2018), in float64 numpy: for unit rows x, z,
    argmax_j 2 cos(x_i, z_j) - r_src(i) - r_tgt(j), r = mean cosine of the k nearest on the other side."""
    x = src.vectors.astype(np.float64)
    z = tgt.vectors.astype(np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    cos = x @ z.T
    r_src = np.sort(cos, axis=1)[:, ::-1][:, :min(k, len(z))].mean(axis=1)
    r_tgt = np.sort(cos.T, axis=1)[:, ::-1][:, :min(k, len(x))].mean(axis=1)
    best = (2 * cos - r_src[:, None] - r_tgt[None, :]).argmax(axis=1)
    return {w: tgt.words[j] for w, j in zip(src.words, best)}


def _random_space(rng, n: int, d: int, prefix: str) -> Embeddings:
    return Embeddings([f"{prefix}{i}" for i in range(n)], rng.normal(size=(n, d)).astype(np.float32))


@pytest.mark.parametrize("n, m, d, k, batch", [(40, 55, 6, 10, 2048), (300, 200, 16, 10, 64),
                                               (7, 5, 4, 10, 2048), (120, 90, 8, 3, 7)])
def test_csls_lexicon_matches_a_brute_force_csls(n, m, d, k, batch):
    rng = np.random.default_rng(n)
    src, tgt = _random_space(rng, n, d, "s"), _random_space(rng, m, d, "t")
    assert csls_lexicon(src, tgt, k, batch=batch) == brute_force_csls(src, tgt, k)
    assert csls_lexicons(src, tgt, k) == (brute_force_csls(src, tgt, k), brute_force_csls(tgt, src, k))


def test_csls_recovers_a_planted_lexicon():
    rng = np.random.default_rng(0)
    vec = rng.normal(size=(50, 8)).astype(np.float32)
    src = Embeddings([f"s{i}" for i in range(50)], vec)
    noise = 0.05 * rng.normal(size=vec.shape).astype(np.float32)
    tgt = Embeddings([f"t{i}" for i in range(50)][::-1], vec[::-1] + noise)
    lexicon = csls_lexicon(src, tgt, k=5)
    assert all(lexicon[f"s{i}"] == f"t{i}" for i in range(50))


def test_word_by_word_bleu_on_the_cipher_pair_is_unchanged():
    # noisy aligned vectors, so the lexicon has a few wrong entries and BLEU is off 100
    pair = cipher_pair(noise=1.5)
    test = ParallelTest(pair.test_src, pair.test_tgt)
    scores = evaluate_word_by_word(pair.aligned, test, 10, ("xa", "xb"))
    s2t, t2s = brute_force_csls(*pair.aligned, 10), brute_force_csls(pair.aligned[1], pair.aligned[0], 10)
    independent = translation_scores(translate_words(test.src, s2t), translate_words(test.tgt, t2s), test.src, test.tgt)
    assert {k: scores[k] for k in independent} == independent
    # as the stage's own CSLS scored it before it used the mapping stage's retrieval
    assert scores["bleu_s2t"] == pytest.approx(64.65062599009843, abs=1e-9)
    assert scores["bleu_t2s"] == pytest.approx(69.59058678296073, abs=1e-9)
    assert scores["examples"][0][0] == test.src[0] and len(scores["examples"]) == 3


def test_translate_words_copies_what_the_lexicon_lacks():
    assert translate_words(["a jesus b", ""], {"a": "x", "b": "y"}) == ["x jesus y", ""]


def test_id_map_falls_back_to_copy_then_unknown():
    src = Vocabulary("xa", SPECIALS + ("a", "name", "lost"))
    tgt = Vocabulary("xb", SPECIALS + ("x", "name"))
    m = id_map({"a": "x", "lost": "nowhere"}, src.words, tgt.index, UNK_ID, len(SPECIALS))
    assert [tgt.words[i] for i in m[len(SPECIALS):]] == ["x", "name", "<unk>"]
    assert list(m[:len(SPECIALS)]) == list(range(len(SPECIALS)))


def test_unknown_fills_translate_words_outside_the_vocabulary_unless_the_other_side_spells_them_too():
    def emb(words):
        return Embeddings(list(words), np.eye(len(words), dtype=np.float32))

    aligned = emb(["a", "rare", "zeus", "odd"]), emb(["x", "rara", "zeus", "ulm"])
    vocabs = Vocabulary("xa", SPECIALS + ("a",)), Vocabulary("xb", SPECIALS + ("x", "rara"))
    lexicons = ({"a": "x", "rare": "rara", "zeus": "ulm", "odd": "odd"},
                {"x": "a", "rara": "rare", "zeus": "zeus", "ulm": "odd"})
    src, tgt = unknown_fills(lexicons, aligned, vocabs)
    # "a" is in the vocabulary, "zeus" is spelled the same on the other side, "odd" translates to itself
    assert src == {"rare": "rara"}
    assert tgt == {"ulm": "odd"}  # "rara" is in the vocabulary, "zeus" known to both
