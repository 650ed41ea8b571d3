import numpy as np
import pytest

from components.align.config import AlignConfig, InitMethod
from components.align.evaluate import evaluate_copy
from components.align.pipeline import (align, align_identical_strings, align_supervised, evaluate_result,
                                       select_best)
from components.align.state import Stage
from components.embeddings import Embeddings
from components.errors import InputError

FAST = AlignConfig(vecmap={"stochastic_interval": 10}, refine={"n_refinement": 2})


def test_unsupervised_vecmap_pipeline_recovers_planted_alignment(planted, cpu):
    events = []
    result = align(planted.src, planted.tgt, FAST, cpu, seed=0, progress_callback=events.append)
    report = evaluate_result(result, planted.pairs, FAST, cpu)
    assert report.metrics["p1_csls_s2t"] > 0.9 and report.metrics["p1_csls_t2s"] > 0.9
    assert result.src.vectors.shape == (600, 32) and result.tgt.words == planted.tgt.words
    np.testing.assert_allclose(np.linalg.norm(result.src.vectors, axis=1), 1.0, atol=1e-5)
    assert result.w.shape == (32, 32)
    stages = [p.stage for p in result.history]
    assert stages[0] is Stage.VECMAP and stages[-3:] == [Stage.REFINE] * 3
    refined = [p.criterion for p in result.history if p.stage is Stage.REFINE and p.step > 0]
    assert result.criterion == max(refined)
    assert len(events) == len(result.history)


def test_adversarial_pipeline_runs_end_to_end(planted, cpu):
    config = AlignConfig(
        method=InitMethod.ADVERSARIAL,
        adversarial={"dis_hid_dim": 32, "n_epochs": 2, "epoch_size": 640},
        refine={"n_refinement": 1},
    )
    with pytest.warns(UserWarning, match="dis_most_frequent"):
        result = align(planted.src, planted.tgt, config, cpu, seed=1)
    assert [p.stage for p in result.history] == [Stage.ADVERSARIAL] * 2 + [Stage.REFINE] * 2
    assert np.isfinite(result.criterion)


def test_reference_rows(planted, cpu):
    seed_pairs = planted.pairs[:100]
    raw = align_supervised(planted.src, planted.tgt, seed_pairs, FAST, cpu, refinement=False)
    refined = align_supervised(planted.src, planted.tgt, seed_pairs, FAST, cpu)
    assert [p.stage for p in raw.history] == [Stage.SEED, Stage.REFINE]
    p_raw = evaluate_result(raw, planted.pairs, FAST, cpu).metrics["p1_csls_s2t"]
    p_ref = evaluate_result(refined, planted.pairs, FAST, cpu).metrics["p1_csls_s2t"]
    assert p_ref >= p_raw > 0.8
    identical = align_identical_strings(planted.src, planted.tgt, FAST, cpu)
    assert identical.method == "identical_strings"
    assert evaluate_result(identical, planted.pairs, FAST, cpu).metrics["p1_csls_s2t"] > 0.9
    copy = evaluate_copy(planted.pairs, planted.src.words, planted.tgt.words, FAST.evaluation)
    assert copy.metrics["p1_csls_s2t"] == pytest.approx(30 / 600)
    assert select_best([raw, refined, identical]).criterion == max(raw.criterion, refined.criterion, identical.criterion)


def test_same_seed_same_result_different_seed_runs(planted, cpu):
    a = align(planted.src, planted.tgt, FAST, cpu, seed=3)
    b = align(planted.src, planted.tgt, FAST, cpu, seed=3)
    np.testing.assert_array_equal(a.w, b.w)


def _emb(n: int, dim: int, seed: int = 0, words=None) -> Embeddings:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return Embeddings(words or [f"w{i}" for i in range(n)], vectors)


def test_dimension_mismatch_is_an_input_error(cpu):
    with pytest.raises(InputError, match=r"en\.vec / fr\.vec: dimensions differ: 32 \(source\) vs 16 \(target\)"):
        align(_emb(200, 32), _emb(200, 16), FAST, cpu, seed=0, src_name="en.vec", tgt_name="fr.vec")


def test_tiny_vocabulary_is_an_input_error(cpu):
    with pytest.raises(InputError, match="fr.vec: vocabulary of 5 words is too small"):
        align(_emb(200, 8), _emb(5, 8), FAST, cpu, seed=0, tgt_name="fr.vec")
    with pytest.raises(InputError, match="too small"):
        align(_emb(200, 8), Embeddings([], np.zeros((0, 8), np.float32)), FAST, cpu, seed=0)


def test_duplicate_words_and_non_finite_vectors_are_input_errors(cpu):
    words = [f"w{i}" for i in range(199)] + ["w3"]
    with pytest.raises(InputError, match="en.vec: duplicate word 'w3'"):
        align(_emb(200, 8, words=words), _emb(200, 8), FAST, cpu, seed=0, src_name="en.vec")
    bad = _emb(200, 8)
    bad.vectors[17, 2] = np.nan
    with pytest.raises(InputError, match="non-finite value in the vector of 'w17'"):
        align(_emb(200, 8), bad, FAST, cpu, seed=0)


def test_dictionary_without_in_vocabulary_pair_is_an_input_error(planted, cpu):
    with pytest.raises(InputError, match="seed.tsv: none of its 2 pairs has both words in the vocabularies"):
        align_supervised(planted.src, planted.tgt, [("xx", "t1"), ("w1", "yy")], FAST, cpu, dictionary_name="seed.tsv")
    result = align(planted.src, planted.tgt, AlignConfig(refine={"n_refinement": 0}, vecmap={"max_iterations": 2}), cpu, seed=0)
    with pytest.raises(InputError, match="test.tsv: none of its 1 pairs"):
        evaluate_result(result, [("nope", "nada")], FAST, cpu, source="test.tsv")
    no_shared = Embeddings([f"t{i}" for i in range(600)], planted.tgt.vectors)
    with pytest.raises(InputError, match="no word is spelled the same"):
        align_identical_strings(planted.src, no_shared, FAST, cpu)


def test_initialisation_in_a_reduced_space_seeds_the_full_map(planted, cpu):
    config = FAST.model_copy(update={"init_dim": 16})
    result = align(planted.src, planted.tgt, config, cpu, seed=0)
    assert result.w.shape == (32, 32)  # the exported map is of the full spaces
    assert Stage.SEED in [p.stage for p in result.history]
    assert evaluate_result(result, planted.pairs, config, cpu).metrics["p1_csls_s2t"] > 0.9


def test_seed_dictionary_without_self_learning_is_procrustes_then_refinement(planted, cpu):
    config = FAST.model_copy(update={"method": InitMethod.IDENTICAL, "seeded_self_learning": False})
    run = align(planted.src, planted.tgt, config, cpu, seed=5)
    assert [p.stage for p in run.history] == [Stage.SEED] + [Stage.REFINE] * 3
    # The same as the identical-strings reference row: nothing in it depends on the seed.
    reference = align_identical_strings(planted.src, planted.tgt, FAST, cpu)
    np.testing.assert_allclose(run.w, reference.w, atol=1e-5)
    assert evaluate_result(run, planted.pairs, config, cpu).metrics["p1_csls_s2t"] > 0.9


def test_the_sweep_runs_a_seed_free_method_once():
    from components.align.config import AlignStageConfig

    methods = (InitMethod.VECMAP, InitMethod.IDENTICAL)
    learning = AlignStageConfig(methods=methods, seeds=(0, 1))
    assert learning.plan() == [(InitMethod.VECMAP, 0), (InitMethod.VECMAP, 1),
                               (InitMethod.IDENTICAL, 0), (InitMethod.IDENTICAL, 1)]
    direct = AlignStageConfig(methods=methods, seeds=(3, 1), align=AlignConfig(seeded_self_learning=False))
    assert direct.plan() == [(InitMethod.VECMAP, 3), (InitMethod.VECMAP, 1), (InitMethod.IDENTICAL, 3)]
