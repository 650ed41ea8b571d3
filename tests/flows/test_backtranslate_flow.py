"""The back-translation stage end to end on a planted cipher pair: train, select, evaluate, report, translate."""
import pytest

from components.backtranslate.catalog import TrainingHistory
from components.backtranslate.config import BacktranslateStageConfig
from components.backtranslate.criterion import ROUND_TRIP_BLEU
from components.backtranslate.metrics import SCORE_KEYS, STANDARD_KEYS
from components.errors import InputError
from components.report import RowKind
from components.store import ArtifactStore
from components.text import detokenize
from flows.backtranslate import backtranslate, translate, translation_section
from tests.components.backtranslate.conftest import (_one_thread, cipher_pair, store_stage_inputs,  # noqa: F401
                                                     tiny_config)


def table_lm_row(report) -> str:
    return report.table(terminal=True)[2]["BLEU xa->xb"]


@pytest.fixture
def inputs(data_dir):
    store = ArtifactStore(data_dir / "store")
    return (store, *store_stage_inputs(store, cipher_pair()))


def test_flow_trains_selects_reports_and_the_model_translates(inputs, data_dir):
    store, src, tgt, test, alignment = inputs
    config = BacktranslateStageConfig(translate=tiny_config(steps=30, checkpoint_every=10), eval_beam=2,
                                      device="cpu")
    result = backtranslate(src, tgt, test, alignment, config)
    history = TrainingHistory.load(store.path(result.model)).rows
    criteria = [r["criterion"] for r in history]
    assert [r["step"] for r in history] == [10, 20, 30]
    first_best = criteria.index(max(criteria))  # the earliest of equals
    assert result.selected_step == history[first_best]["step"]
    assert result.round_trip_bleu == criteria[first_best] == result.model.meta["round_trip_bleu"]
    assert result.criterion == ROUND_TRIP_BLEU
    assert result.word_by_word["bleu_s2t"] > 90  # the planted lexicon is exact
    assert result.word_by_word["sacrebleu_s2t"] > 90  # and detokenised it is the raw test line, lowercased

    report = result.report()
    assert [(r.kind, r.selected) for r in report.rows] == [(RowKind.UNSUPERVISED, True), (RowKind.BASELINE, False),
                                                           (RowKind.BASELINE, False)]
    assert result.word_by_word_lm["sacrebleu_s2t"] > 90  # the LM-searched row on the same exact lexicon
    assert table_lm_row(report) == f"{result.word_by_word_lm['sacrebleu_s2t']:.2f}"
    assert report.selected().criterion == result.round_trip_bleu
    assert report.key == "translation-xa-xb" and ROUND_TRIP_BLEU.name in report.markdown()
    assert result.metrics["sacrebleu_signature"] in report.markdown() and "case:lc" in report.markdown()
    table = report.table(terminal=True)
    assert table[1]["BLEU xa->xb"] == f"{result.word_by_word['sacrebleu_s2t']:.2f}"
    assert table[0]["chrF xb->xa"] == f"{result.metrics['sacrechrf_t2s']:.1f}"
    assert table[1]["tok. BLEU xa->xb"] == f"{result.word_by_word['bleu_s2t']:.2f}"
    older = result.model_copy(update={"metrics": {k: result.metrics[k] for k in SCORE_KEYS},
                                      "word_by_word": {k: result.word_by_word[k] for k in SCORE_KEYS}})
    assert list(older.report().table(terminal=True)[0])[1:5] == ["tok. BLEU xa->xb", "tok. BLEU xb->xa",
                                                                 "tok. chrF xa->xb", "tok. chrF xb->xa"]
    assert "no raw verses" in older.report().markdown() and "sacrebleu_s2t" not in translation_section(older)

    section = translation_section(result)
    for key in ("bleu_s2t", "bleu_t2s", "chrf_s2t", "chrf_t2s", "round_trip_bleu", "seconds", "model"):
        assert isinstance(section[key], (int, float, str))
    assert section["bleu_s2t"] == round(result.metrics["bleu_s2t"], 2)
    assert section["sacrebleu_s2t"] == round(result.metrics["sacrebleu_s2t"], 2)
    assert section["sacrebleu_signature"] == result.metrics["sacrebleu_signature"]
    assert set(section["word_by_word"]) == set(SCORE_KEYS) | set(STANDARD_KEYS)
    assert section["word_by_word_lm"] == {k: round(result.word_by_word_lm[k], 2) for k in SCORE_KEYS + STANDARD_KEYS}
    assert "word_by_word_lm" not in translation_section(result.model_copy(update={"word_by_word_lm": None}))
    assert section["selected_step"] == result.selected_step and section["steps"] == 30
    assert set(section["word_by_word"]) >= {"bleu_s2t", "bleu_t2s"}
    assert section["alignment"]["method"] == "planted"
    assert section["train_flops"] > 0 and section["generation_flops"] > 0  # greedy back-translation after step 5
    assert section["peak_flops_per_second"] > 0 and 0 < section["peak_fraction"] <= 1.5
    assert "matmul peak" in report.markdown()
    assert (data_dir / "reports" / "translation-xa-xb.png").stat().st_size > 0
    assert not list((store.root / "checkpoints").glob("*/checkpoint.pt"))  # removed once the model is stored

    again = backtranslate(src, tgt, test, alignment, config)  # cache hit: same model artifact
    assert again.model == result.model

    sentences = ["The n1 v2 the n3 .", "", "日本語 の 文"]
    by_ref = translate(result.model, sentences, "xa-xb", beam=2, device="cpu")
    assert by_ref == translate(section["model"], sentences, "s2t", beam=2, device="cpu")
    assert by_ref == translate(result.model.sha256[:16], sentences, "s2t", beam=2, device="cpu")
    assert by_ref[1] == "" and "日本語" in by_ref[2]  # unseen script passes through
    tokens = translate(result.model, sentences, "xa-xb", beam=2, device="cpu", detokenized=False)
    assert by_ref == [detokenize(line.split(), "xb") for line in tokens]
    assert all(w.startswith("q") or w in ("日本語", "の", "文") for w in tokens[0].split())
    with pytest.raises(InputError, match="no such model"):
        translate("0123456789abcdef", sentences)
    with pytest.raises(InputError, match="direction"):
        translate(result.model, sentences, "xa-de")
    with pytest.raises(InputError, match="beam"):
        translate(result.model, sentences, beam=0)


def test_continuations_get_a_row_each_and_keep_the_selected_model(inputs):
    from components.backtranslate.config import AdversaryMode, FinetuneConfig

    store, src, tgt, test, alignment = inputs
    config = BacktranslateStageConfig(translate=tiny_config(steps=10, checkpoint_every=5), eval_beam=1, device="cpu",
                                      finetune=FinetuneConfig(steps=2, checkpoint_every=1,
                                                              modes=(AdversaryMode.NONE, AdversaryMode.POLICY_GRADIENT)))
    result = backtranslate(src, tgt, test, alignment, config)
    assert list(result.finetuned) == ["finetune_none", "finetune_policy_gradient"]
    rows = result.report().rows
    assert [r.name for r in rows if r.selected] == ["back-translation model"] and len(rows) == 5
    assert rows[-1].criterion == result.finetuned["finetune_policy_gradient"]["round_trip_bleu"]
    section = translation_section(result)["finetuned"]
    assert section["finetune_none"]["sacrebleu_s2t"] == round(result.finetuned["finetune_none"]["sacrebleu_s2t"], 2)
