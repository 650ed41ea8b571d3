import pytest

from components.align.config import AlignConfig, InitMethod
from components.align.pipeline import align, evaluate_result
from components.align.config import OrthographicConfig
from components.align.orthographic import NoSeedError, fold_accents, identical_string_pairs, orthographic_seed
from components.embeddings import Embeddings


def test_identical_string_pairs_exact_and_min_length():
    src = ["a", "paris", "été", "david", "x"]
    tgt = ["david", "ete", "a", "paris"]
    assert identical_string_pairs(src, tgt) == [(0, 2), (1, 3), (3, 0)]
    assert identical_string_pairs(src, tgt, OrthographicConfig(min_length=2)) == [(1, 3), (3, 0)]


def test_fold_accents_matches_the_most_frequent_target_spelling():
    assert fold_accents("Jesús été") == "Jesus ete"
    src = ["jesus", "ete"]
    tgt = ["jesús", "ete", "jesus"]  # most frequent first
    assert identical_string_pairs(src, tgt, OrthographicConfig(fold_accents=True)) == [(0, 0), (1, 1)]


def test_too_few_identical_strings_raise_naming_the_source():
    with pytest.raises(NoSeedError, match="en.vec / ru.vec: only 1 words"):
        orthographic_seed(["a", "b"], ["b", "c"], OrthographicConfig(min_pairs=2), "en.vec / ru.vec")


def test_identical_init_recovers_planted_alignment(planted, cpu):
    config = AlignConfig(method=InitMethod.IDENTICAL, vecmap={"stochastic_interval": 10},
                         refine={"n_refinement": 2})
    result = align(planted.src, planted.tgt, config, cpu, seed=0)
    report = evaluate_result(result, planted.pairs, config, cpu)
    assert result.method == "identical"
    assert report.metrics["p1_csls_s2t"] > 0.9


def test_identical_init_without_shared_spellings_is_refused(planted, cpu):
    renamed = Embeddings([f"u{i}" for i in range(len(planted.tgt.words))], planted.tgt.vectors)
    config = AlignConfig(method=InitMethod.IDENTICAL)
    with pytest.raises(NoSeedError, match="src.vec / tgt.vec"):
        align(planted.src, renamed, config, cpu, seed=0, src_name="src.vec", tgt_name="tgt.vec")
