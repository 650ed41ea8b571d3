import pytest
import torch

from components.align.config import EvaluationConfig, RetrievalConfig
from components.align.evaluate import (csls_p1, evaluate_copy, gold_translations, most_frequent,
                                       word_translation_precision)
from components.align.retrieval import csls_penalties
from components.errors import InputError

EVAL = EvaluationConfig(ks=(1, 2), frequency_buckets=(2,))

# Three source words, four target words, in a 2-d space where the translations are obvious.
SRC_WORDS = ["a", "b", "c"]
TGT_WORDS = ["A", "B", "c", "zz"]
SRC = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
TGT = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [-1.0, 0.0]])


def _eval(pairs, src=SRC, tgt=TGT):
    return word_translation_precision(src, tgt, SRC_WORDS, TGT_WORDS, pairs, EVAL, RetrievalConfig(csls_k=2), "test.tsv")


def test_precision_counts_any_gold_translation():
    # 'b' has two gold targets; the retrieved one ('B') is among them.
    report = _eval([("a", "A"), ("b", "zz"), ("b", "B"), ("c", "c")])
    assert report.metrics["p1_nn_s2t"] == 1.0
    assert report.counts["queries_s2t"] == 3 and report.counts["queries_t2s"] == 4
    assert set(report.metrics) == {f"p{k}_{m}_{d}" for k in (1, 2) for m in ("nn", "csls") for d in ("s2t", "t2s")}


def test_dev_p1_is_the_reports_csls_p1_on_the_same_pairs():
    torch.manual_seed(0)
    src, tgt = torch.nn.functional.normalize(torch.randn(3, 2), dim=1), torch.nn.functional.normalize(TGT, dim=1)
    for pairs in ([("a", "A"), ("b", "B"), ("c", "c")], [("a", "B"), ("b", "zz"), ("c", "c")]):
        expected = _eval(pairs, src, tgt).metrics["p1_csls_s2t"]
        assert csls_p1(src, tgt, SRC_WORDS, TGT_WORDS, pairs, RetrievalConfig(csls_k=2), "seed.tsv") == expected
    with pytest.raises(InputError, match="seed.tsv"):
        csls_p1(SRC, TGT, SRC_WORDS, TGT_WORDS, [("x", "y")], RetrievalConfig(csls_k=2), "seed.tsv")


def test_wrong_gold_gives_zero_and_pk_is_monotone():
    report = _eval([("a", "B"), ("b", "A")])
    assert report.metrics["p1_nn_s2t"] == 0.0
    assert report.metrics["p2_nn_s2t"] >= report.metrics["p1_nn_s2t"]


def test_frequency_buckets_and_without_identical():
    report = _eval([("a", "A"), ("b", "zz"), ("c", "c")])
    # Ranks 0-1 ('a' right, 'b' wrong) and 2+ ('c' right).
    assert report.p1_by_bucket["p1_nn_s2t_0-2"] == 0.5
    assert report.p1_by_bucket["p1_nn_s2t_2-"] == 1.0
    assert report.counts["bucket_0-2"] == 2 and report.counts["bucket_2-"] == 1
    assert report.without_identical["p1_nn_s2t"] == 0.5  # 'c'->'c' removed
    assert _eval([("c", "c")]).without_identical is None


def test_out_of_vocabulary_pairs_are_skipped_and_none_left_raises():
    report = _eval([("a", "A"), ("nope", "A"), ("a", "nope")])
    assert report.counts["pairs_in_vocab"] == 1 and report.counts["pairs_given"] == 3
    with pytest.raises(InputError, match="test.tsv: none of its 2 pairs has both words in the vocabularies"):
        _eval([("x", "A"), ("a", "y")])
    with pytest.raises(InputError):
        gold_translations([], SRC_WORDS, TGT_WORDS)


def test_dimension_mismatch_raises():
    with pytest.raises(InputError, match="dimension"):
        _eval([("a", "A")], tgt=torch.ones(4, 3))


def test_copy_translates_each_word_by_itself():
    report = evaluate_copy([("a", "A"), ("c", "c"), ("b", "B"), ("b", "b")], SRC_WORDS, TGT_WORDS, EVAL)
    # s2t queries a, b, c: only 'c' is in the target vocabulary and right ('b' is not a target word).
    assert report.metrics["p1_csls_s2t"] == pytest.approx(1 / 3)
    assert report.metrics["p2_nn_s2t"] == report.metrics["p1_nn_s2t"]
    assert report.without_identical["p1_csls_s2t"] == 0.0


def test_search_words_cap_equals_evaluating_the_truncated_spaces():
    torch.manual_seed(1)
    src = torch.nn.functional.normalize(torch.randn(40, 5), dim=1)
    tgt = torch.nn.functional.normalize(src + 0.3 * torch.randn(40, 5), dim=1)
    sw, tw = [f"s{i}" for i in range(40)], [f"t{i}" for i in range(40)]
    pairs = [(f"s{i}", f"t{i}") for i in range(0, 40, 2)]
    capped = EvaluationConfig(ks=(1, 5), frequency_buckets=(5,), search_words=25)
    retrieval = RetrievalConfig(csls_k=3)
    report = word_translation_precision(src, tgt, sw, tw, pairs, capped, retrieval)
    alone = word_translation_precision(src[:25], tgt[:25], sw[:25], tw[:25], pairs,
                                       capped.model_copy(update={"search_words": 40}), retrieval)
    assert report.metrics == alone.metrics
    assert report.counts["pairs_in_vocab"] == 13 and report.counts["pairs_given"] == 20
    assert csls_p1(src, tgt, sw, tw, pairs, retrieval, search_words=25) == report.metrics["p1_csls_s2t"]
    # Penalties measured once on the cut spaces give the same figures when handed in.
    x, z, sw25, tw25 = most_frequent(25, src, tgt, sw, tw)
    penalties = csls_penalties(x, z, retrieval)
    assert word_translation_precision(x, z, sw25, tw25, pairs, capped, retrieval, penalties=penalties).metrics \
        == report.metrics
    assert csls_p1(x, z, sw25, tw25, pairs, retrieval, penalties=penalties) == report.metrics["p1_csls_s2t"]
    copy = evaluate_copy([("s1", "s1"), ("s30", "s30")], sw + ["s1"], sw, capped)
    assert copy.counts["pairs_in_vocab"] == 1
