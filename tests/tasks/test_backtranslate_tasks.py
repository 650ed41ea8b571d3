"""The back-translation tasks one by one on the planted cipher pair, in a store of this module's own:
each reads what the earlier stages store and stores what the next one reads."""
import pytest
import torch
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from components.backtranslate.bundle import WEIGHTS, load_bundle
from components.backtranslate.catalog import ParallelTest, TrainingHistory
from components.backtranslate.config import AdversaryConfig
from components.backtranslate.metrics import SCORE_KEYS, STANDARD_KEYS
from components.backtranslate.lmwordbyword import evaluate_lm_word_by_word
from components.backtranslate.wordbyword import evaluate_word_by_word
from components.report import Column, Row, RowKind, StageReport
from tasks.backtranslate.evaluate import evaluate_translation
from tasks.backtranslate.report import plot_backtranslation, publish_backtranslation_report
from tasks.backtranslate.train import train_backtranslation
from tasks.backtranslate.wordbyword import lm_word_by_word, word_by_word
from tasks.store import store
from tests.components.backtranslate.conftest import (_one_thread, cipher_pair, store_stage_inputs,  # noqa: F401
                                                     tiny_config)

# tasks called outside a flow log locally only; that is what these tests do
pytestmark = pytest.mark.filterwarnings("ignore:Logger 'prefect.task_runs' attempted to send logs")


@pytest.fixture
def stage(data_dir):
    pair = cipher_pair()
    return pair, store_stage_inputs(store(), pair)


class _Criterion:
    """Round-trip BLEU replaced by set values, snapshotting the weights at each measurement."""

    def __init__(self, values):
        self.values, self.weights = list(values), []

    def __call__(self, tm, valid):
        self.weights.append({k: v.detach().clone() for k, v in tm.model.state_dict().items()})
        return self.values[len(self.weights) - 1], (["out"] * len(valid[0]), ["out"] * len(valid[1]))


def test_word_by_word_task_scores_the_stored_test_with_the_stored_map(stage):
    pair, (_, _, test, alignment) = stage
    scores = word_by_word(alignment, test, "xa", "xb", 10, 12)
    direct = evaluate_word_by_word(pair.aligned, ParallelTest(pair.test_src[:12], pair.test_tgt[:12],
                                                            (pair.test_raw[0][:12], pair.test_raw[1][:12])),
                                   10, ("xa", "xb"))
    assert scores == direct and scores["bleu_s2t"] > 99 and scores["sacrebleu_s2t"] > 99


def test_lm_word_by_word_task_scores_the_stored_test_with_the_training_halves_lm(stage):
    pair, (src, tgt, test, alignment) = stage
    config = tiny_config()
    scores = lm_word_by_word(alignment, test, src, tgt, config, 12)
    direct = evaluate_lm_word_by_word(pair.aligned, pair.train, ParallelTest(
        pair.test_src[:12], pair.test_tgt[:12], (pair.test_raw[0][:12], pair.test_raw[1][:12])), config, ("xa", "xb"))
    assert {k: v for k, v in scores.items() if k != "sentences_per_second"} == \
        {k: v for k, v in direct.items() if k != "sentences_per_second"}
    assert scores["bleu_s2t"] > 99 and scores["sacrebleu_t2s"] > 99


def test_training_stores_the_selected_checkpoint_with_its_history(stage, monkeypatch):
    _, (src, tgt, _, alignment) = stage
    fake = _Criterion([(1.0, 3.0), (4.0, 4.0), (3.0, 4.0)])  # means 2, 4, 3.5: the middle one wins
    monkeypatch.setattr("components.backtranslate.train.round_trip", fake)
    model = train_backtranslation(src, tgt, alignment, tiny_config(steps=30, checkpoint_every=10), "cpu")
    assert model.kind == "translation-model"
    assert (model.meta["pair"], model.meta["best_step"], model.meta["round_trip_bleu"], model.meta["steps"]) == \
        ("xa-xb", 20, 4.0, 30)
    assert (model.meta["round_trip_bleu_src"], model.meta["round_trip_bleu_tgt"]) == (4.0, 4.0)
    assert model.meta["alignment"] == alignment.sha256 and model.meta["alignment_method"] == "planted"
    history = TrainingHistory.load(store().path(model)).rows
    assert [(r["step"], r["criterion"], r["best"]) for r in history] == [(10, 2.0, True), (20, 4.0, True),
                                                                         (30, 3.5, False)]
    saved = torch.load(store().path(model) / WEIGHTS, weights_only=True)
    for k, v in fake.weights[1].items():  # the stored weights are step 20's
        torch.testing.assert_close(saved[k], v.cpu(), rtol=0, atol=0)
    assert load_bundle(store().path(model), torch.device("cpu")).langs == ("xa", "xb")
    assert not list((store().root / "checkpoints").glob("backtranslate-*/checkpoint.pt"))


def test_evaluation_plot_and_report_of_a_trained_model(stage, data_dir):
    _, (src, tgt, test, alignment) = stage
    model = train_backtranslation(src, tgt, alignment, tiny_config(steps=10, checkpoint_every=5), "cpu")
    metrics = evaluate_translation(model, test, 2, 7, "cpu")
    assert (metrics["beam"], metrics["test_sentences"], len(metrics["examples"])) == (2, 7, 3)
    assert all(0 <= metrics[k] <= 100 for k in SCORE_KEYS + STANDARD_KEYS)
    assert "case:lc" in metrics["sacrebleu_signature"] and "tok:13a" in metrics["sacrebleu_signature"]
    plot = plot_backtranslation(model, data_dir / "reports" / "plot.png")
    assert plot.stat().st_size > 0
    report = StageReport(key="translation-test", title="t", columns=[Column(key="bleu_s2t", header="BLEU")],
                         rows=[Row(name="model", kind=RowKind.UNSUPERVISED, metrics=metrics, selected=True)])
    publish_backtranslation_report(report, model)
    keys = ["translation-test", "translation-test-checkpoints", "translation-test-summary"]
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys)))
    found = {a.key: a for a in found}
    assert set(found) == set(keys)
    assert (found["translation-test"].type, found["translation-test-summary"].type) == ("table", "markdown")
    assert "# t" in found["translation-test-summary"].data


def test_an_adversarial_run_records_and_plots_its_discriminator(stage, data_dir):
    _, (src, tgt, _, alignment) = stage
    config = tiny_config(steps=10, checkpoint_every=5, valid_sentences=5)
    config = config.model_copy(update={"adversary": AdversaryConfig(mode="gumbel", start_step=5, hidden=16)})
    model = train_backtranslation(src, tgt, alignment, config, "cpu")
    history = TrainingHistory.load(store().path(model)).rows
    assert history[0]["disc_accuracy"] is None  # the adversary starts at step 5
    assert 0 <= history[1]["disc_accuracy"] <= 1 and 0 < history[1]["adv_reward"] < 1
    assert load_bundle(store().path(model), torch.device("cpu")).config.adversary == config.adversary
    assert plot_backtranslation(model, data_dir / "reports" / "adversarial.png").stat().st_size > 0
