"""Vocabularies: frequency order, unknown words, words without an aligned vector, bad input."""
import numpy as np
import pytest

from components.embeddings import Embeddings
from components.errors import InputError
from components.backtranslate.vocab import SPECIALS, UNK_ID, Vocabulary


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
