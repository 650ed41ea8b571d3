"""The style-transfer pipeline end to end on two tiny planted styles of one language: corpus with the
identity dictionary, mapping, generator, classifier, rows beside copying, report, bench section, restyle."""
from pathlib import Path

import numpy as np
import pytest
import torch

from components.align.config import AlignConfig, AlignStageConfig, InitMethod
from components.backtranslate.config import AdversaryMode, BacktranslateStageConfig, FinetuneConfig, TranslateConfig
from components.embeddings import EmbeddingConfig
from components.report import RowKind
from components.style.classifier import ClassifierConfig
from components.style.config import StyleSides, StyleStageConfig
from components.style.evaluate import COPY, LM_WORD_BY_WORD, MODEL, REFERENCE
from flows.backtranslate import translate
from components.backtranslate.bundle import load_bundle
from components.backtranslate.catalog import TrainingHistory
from components.backtranslate.criterion import style_criterion
from flows.style import style_transfer
from tasks.publish import read_published
from tasks.store import store
from tests.components.backtranslate.conftest import _one_thread, tiny_config  # noqa: F401

WORDS = [f"w{i}" for i in range(120)]
# the archaic style writes the first word of each pair, the modern one the second
MARKERS = [("thee", "you"), ("hath", "has"), ("unto", "to"), ("saith", "says"), ("ye", "you")]


def _sentences(rng: np.random.Generator, n: int) -> list[list[str]]:
    """Content words with one style slot each: ('@', k) stands for marker pair k."""
    out = []
    for _ in range(n):
        words = list(rng.choice(WORDS, size=6))
        words.insert(int(rng.integers(0, 6)), f"@{rng.integers(len(MARKERS))}")
        out.append(words)
    return out


def _render(sentence: list[str], side: int) -> str:
    return " ".join(MARKERS[int(w[1:])][side] if w.startswith("@") else w for w in sentence) + " ."


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    rng = np.random.default_rng(3)
    d = tmp_path / "in"
    d.mkdir()
    paths = {}
    for name, side, n in (("archaic", 0, 800), ("modern", 1, 800)):
        paths[name] = d / f"{name}.txt"
        paths[name].write_text("".join(_render(s, side) + "\n" for s in _sentences(rng, n)), encoding="utf-8")
    test = _sentences(rng, 30)
    for name, side in (("test_archaic", 0), ("test_modern", 1)):
        paths[name] = d / f"{name}.txt"
        paths[name].write_text("".join(_render(s, side) + "\n" for s in test), encoding="utf-8")
    return paths


def copying(config: TranslateConfig) -> TranslateConfig:
    """The generator copies across the styles, as the presets' does."""
    return config.model_copy(update={"model": config.model.model_copy(update={"copying": True})})


def test_style_pipeline_scores_beside_copying_and_restyles(files, data_dir):
    sides = StyleSides(lang="en", src_files=(files["archaic"],), tgt_files=(files["modern"],),
                       test_files=(files["test_archaic"], files["test_modern"]))
    config = StyleStageConfig(
        sides=sides, align=AlignStageConfig(methods=(InitMethod.IDENTICAL,), seeds=(0,), references=False,
                                            align=AlignConfig(seeded_self_learning=False)),
        transfer=BacktranslateStageConfig(translate=copying(tiny_config(steps=20, checkpoint_every=10)), eval_beam=1,
                                          device="cpu", finetune=FinetuneConfig(steps=4, checkpoint_every=2)),
        classifier=ClassifierConfig(epochs=5), embeddings=EmbeddingConfig(dim=16, epochs=1, min_count=1))
    result = style_transfer(config)

    assert result.corpus.dictionary.meta["seed_pairs"] > 50  # one language: the identity dictionary
    assert result.classifier.meta["valid_accuracy"] > 0.9      # the markers tell the styles apart
    rows = result.test_rows()
    finetuned = [f"finetune_{m.value}" for m in AdversaryMode]
    assert list(rows) == [COPY, REFERENCE, LM_WORD_BY_WORD, MODEL, *finetuned]
    assert rows[COPY]["pinc_s2t"] == 0 and rows[COPY]["self_bleu_t2s"] == pytest.approx(100)
    assert rows[REFERENCE]["sacrebleu_s2t"] == pytest.approx(100) and rows[REFERENCE]["sacrebleu_t2s"] == pytest.approx(100)
    assert rows[REFERENCE]["style_s2t"] > 0.9 and rows[COPY]["style_s2t"] < 0.1  # the judge agrees with the data
    assert 0 <= rows[MODEL]["style_s2t"] <= 1 and rows[MODEL]["perplexity_s2t"] > 1
    start = result.models[MODEL].model
    assert start.meta["copying"] is True
    for key, mode in zip(finetuned, AdversaryMode):  # each continues the same model with its adversary
        meta = result.models[key].model.meta
        assert meta["finetuned_from"] == start.sha256 and meta["adversary"] == mode.value and meta["steps"] == 4
    assert "disc_accuracy" in TrainingHistory.load(store().path(result.models["finetune_gumbel"].model)).rows[-1]
    for trained in result.models.values():  # every checkpoint judged: selected by round trip and style together
        history = TrainingHistory.load(store().path(trained.model)).rows
        assert all(r["criterion"] == pytest.approx(style_criterion(
            r["round_trip_bleu_src"], r["round_trip_bleu_tgt"], r["style_share_s2t"], r["style_share_t2s"]))
            for r in history)
        best = max(history, key=lambda r: r["criterion"])
        assert trained.model.meta["best_step"] == best["step"] and trained.criterion_value == best["criterion"]
    best = max(result.models.values(), key=lambda m: m.criterion_value)
    assert result.model == best.model == result.models[result.selected].model

    report = result.report()
    assert report.key == "style-transfer-en-archaic-modern"
    assert [r.kind for r in report.rows][:4] == [RowKind.BASELINE, RowKind.REFERENCE, RowKind.BASELINE,
                                                 RowKind.UNSUPERVISED]
    assert [r.name for r in report.rows if r.selected] == [report.selected().name]
    assert report.selected().criterion == result.models[result.selected].criterion_value
    assert "judged modern % (archaic->modern)" in report.table(terminal=True)[0]
    assert "constant reward" in report.markdown()
    curves = read_published(f"{report.key}-finetune-gumbel-checkpoints")["data"]  # each generator's, for the UI
    assert [r["step"] for r in curves] == [2, 4] and curves[-1]["disc_accuracy"] is not None
    assert read_published(f"{report.key}-checkpoints") is None  # the selected one's is not published twice
    # the stages before are reported under the style pair's name, a column per style (one language)
    corpus_rows = read_published("corpus-en-archaic-modern")["data"]
    assert set(corpus_rows[0]) == {"statistic", "archaic", "modern"} and read_published("corpus-en-en") is None
    assert read_published("alignment-en-archaic-modern") is not None and read_published("alignment-en-en") is None

    section = result.bench_section()
    assert section["copy_bleu_s2t"] == round(rows[COPY]["sacrebleu_s2t"], 2)
    assert section["judged_target_s2t"] == round(rows[result.selected]["style_s2t"], 4)
    assert list(section["rows"]) == list(rows) and section["steps"] == result.model.meta["steps"]
    assert set(section["round_trip_bleu"]) == set(section["criterion"]) == set(result.models)

    vocabs = load_bundle(store().path(result.model), torch.device("cpu")).vocabs  # each style keeps its own
    assert "thee" in vocabs[0].index and "thee" not in vocabs[1].index
    out = translate(result.model, ["thee w1 w2 ."], "s2t", beam=1, device="cpu")
    assert len(out) == 1 and isinstance(out[0], str)
    assert style_transfer(config).model == result.model  # cached
