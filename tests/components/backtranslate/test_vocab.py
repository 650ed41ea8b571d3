"""Vocabularies: frequency order, unknown words, words without an aligned vector, bad input."""
import numpy as np
import pytest

from components.embeddings import Embeddings
from components.errors import InputError
from components.backtranslate.vocab import SPECIALS, UNK_ID, SubwordVocabulary, Vocabulary, build_vocabulary


def test_build_keeps_the_most_frequent_words_after_the_specials():
    v = Vocabulary.build("xa", ["a b a", "c a b"], size=2)
    assert v.words == SPECIALS + ("a", "b")
    assert v.encode(["a", "c", "zzz"]) == [len(SPECIALS), UNK_ID, UNK_ID]
    assert v.decode(v.encode(["b", "a"])) == ["b", "a"]


def test_empty_corpus_names_the_input():
    with pytest.raises(InputError, match="fr corpus"):
        Vocabulary.build("fr", ["", "  "], 10, source="fr corpus")


def test_words_missing_from_the_embeddings_get_random_vectors(tmp_path):
    v = Vocabulary.build("xa", ["a b c"], 10)
    emb = Embeddings(["a", "c", "other"], np.eye(3, dtype=np.float32))
    vectors, missing = v.vectors(emb)
    assert vectors.shape == (len(v), 3)
    a, b, c = (v.index[w] for w in "abc")
    np.testing.assert_array_equal(vectors[a], [1, 0, 0])
    np.testing.assert_array_equal(vectors[c], [0, 1, 0])
    assert missing[b] and not missing[a] and not missing[c] and missing[:len(SPECIALS)].all()
    v.write(tmp_path / "v.txt")
    assert Vocabulary.read("xa", tmp_path / "v.txt") == v


LINES = ["the lord spake unto moses", "and moses spake unto the people", "the people of israel",
         "unto thee o lord", "thou shalt not kill"] * 20


def test_subword_pieces_rebuild_every_line_and_copy_unseen_characters():
    v = SubwordVocabulary.build("xa", LINES, size=40)
    assert len(v) <= len(SPECIALS) + 40 and v.words[:len(SPECIALS)] == SPECIALS
    for line in set(LINES) | {"moses spake thee", "the ŋ people"}:
        pieces = v.split(line)
        assert v.join(pieces) == line
    ids = v.encode(v.split("the ŋ people"))
    assert UNK_ID in ids and ids.count(UNK_ID) == 1  # the unseen character is the one unknown piece
    assert any(len(v.split(w)) > 1 for w in ("israel", "people", "moses"))  # 40 pieces cannot hold every word


def test_subword_vocabulary_round_trips_through_its_files(tmp_path):
    v = SubwordVocabulary.build("xa", LINES, size=40)
    v.write(tmp_path / "vocab.xa.txt")
    back = Vocabulary.read("xa", tmp_path / "vocab.xa.txt")
    assert isinstance(back, SubwordVocabulary) and back == v
    assert back.split("moses spake") == v.split("moses spake")
    assert build_vocabulary("xa", LINES, 40, subword=False, source="x") == Vocabulary.build("xa", LINES, 40)


def test_pieces_start_from_their_words_aligned_vectors():
    v = SubwordVocabulary.build("xa", LINES, size=40)
    rng = np.random.default_rng(0)
    words = sorted({w for line in LINES for w in line.split()})
    emb = Embeddings(words, rng.normal(size=(len(words), 8)).astype(np.float32))
    vectors, missing = v.vectors(emb)
    whole = [w for w in words if v.split(w) == ["\u2581" + w]]
    assert whole  # frequent words are pieces of their own
    for w in whole:
        np.testing.assert_allclose(vectors[v.index["\u2581" + w]], emb.vectors[emb.index()[w]])
    # a piece inside words only: the direction of the mean of the words that hold it
    part = next(p for p in v.words[len(SPECIALS):] if not p.startswith("\u2581")
                and any(p in v.split(w) for w in words))
    holders = [emb.vectors[emb.index()[w]] for w in words if part in v.split(w)]
    mean = np.mean(holders, axis=0)
    got = vectors[v.index[part]]
    assert np.dot(got, mean) / (np.linalg.norm(got) * np.linalg.norm(mean)) > 0.999
    assert not missing[v.index[part]] and missing[:len(SPECIALS)].all()
