import pytest

from components.corpus import DictionaryConfig
from components.dictionary import collect_pairs, identity_pairs, split_dictionary
from components.errors import InputError
from tests.components.test_sources import make_dictd


def test_pairs_from_both_directions_single_words_only(tmp_path):
    make_dictd(tmp_path, "freedict-eng-fra", [("cat", "cat /k/\nchat, petit chat\n"),
                                              ("dog", "dog\nchien\n")])
    make_dictd(tmp_path, "freedict-fra-eng", [("maison", "maison <n, fem>\nhouse, home\n")])
    pairs = collect_pairs("en", "fr", DictionaryConfig(dictd_dir=tmp_path), lowercase=True)
    assert pairs == [("cat", "chat"), ("dog", "chien"), ("home", "maison"), ("house", "maison")]


def test_split_keeps_in_vocabulary_pairs_and_never_splits_a_source_word():
    pairs = [(f"w{i}", f"t{i}{k}") for i in range(300) for k in range(2)] + [("oov", "t0")]
    src_vocab = {f"w{i}" for i in range(300)}
    tgt_vocab = {f"t{i}{k}" for i in range(300) for k in range(2)}
    parts = split_dictionary(pairs, src_vocab, tgt_vocab, DictionaryConfig(test_fraction=0.3), "d")
    seed_words, test_words = {s for s, _ in parts.seed}, {s for s, _ in parts.test}
    assert seed_words.isdisjoint(test_words)
    assert len(parts.seed) + len(parts.test) == 600
    assert 60 < len(test_words) < 120
    assert parts.src_covered == 300 and parts.src_words == 301


def test_no_dictionary_for_pair_and_no_pair_in_vocabulary(tmp_path):
    with pytest.raises(InputError, match="pair es-de"):
        collect_pairs("es", "de", DictionaryConfig(dictd_dir=tmp_path), lowercase=True)
    with pytest.raises(InputError, match="my-dict"):
        split_dictionary([("a", "b")], {"x"}, {"y"}, DictionaryConfig(), "my-dict")


def test_identity_pairs_of_two_styles_keep_shared_words_with_a_letter():
    assert identity_pairs({"thee", "the", "lord", ",", "12"}, {"you", "the", "lord", ",", "12"}) == [
        ("lord", "lord"), ("the", "the")]
