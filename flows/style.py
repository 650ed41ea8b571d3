"""The style-transfer pipeline: two styles of one language -> their embeddings -> a map between them ->
a generator trained by denoising and back-translation between the styles, scored beside copying."""
from __future__ import annotations

import time
from typing import Any

from prefect import flow
from pydantic import BaseModel

from components import presets
from components.backtranslate.catalog import TrainingHistory
from components.backtranslate.criterion import ROUND_TRIP_AND_STYLE
from components.backtranslate.metrics import SIGNATURE_KEYS
from components.presets import Preset
from components.report import Column, Criterion, Row, RowKind, StageReport
from components.store import ArtifactRef
from components.style.config import StyleStageConfig
from components.style.evaluate import COPY, LM_WORD_BY_WORD, MODEL, REFERENCE
from flows.align import AlignStageResult, align_embeddings
from flows.backtranslate import FINETUNED_ROWS, finetune_runs
from flows.corpus import CorpusResult, prepare_corpus
from flows.runner import task_runner
from tasks.backtranslate.report import plot_backtranslation, publish_backtranslation_report
from tasks.backtranslate.train import train_backtranslation
from tasks.publish import publish_table
from tasks.runtime import data_root
from tasks.store import store
from tasks.style.classifier import train_style_classifier
from tasks.style.evaluate import evaluate_style, evaluate_style_baselines

# row key -> (display name, kind)
_ROWS = {COPY: ("copy the input", RowKind.BASELINE), REFERENCE: ("the references", RowKind.REFERENCE),
         LM_WORD_BY_WORD: ("word by word, top-k CSLS searched with the target style's LM", RowKind.BASELINE),
         MODEL: ("denoising + back-translation", RowKind.UNSUPERVISED)}
class TrainedModel(BaseModel):
    """One generator: the artifact and its evaluation (test row, unsupervised scores on held-out lines)."""

    model: ArtifactRef
    evaluation: dict[str, Any]

    @property
    def round_trip_bleu(self) -> float:
        return self.model.meta["round_trip_bleu"]

    @property
    def criterion_value(self) -> float:
        """`style_criterion` of the selected checkpoint."""
        return self.model.meta["criterion"]


class StyleTransferResult(BaseModel):
    name: str                            # e.g. en-archaic-modern
    styles: tuple[str, str]
    corpus: CorpusResult
    alignment: AlignStageResult
    classifier: ArtifactRef              # fastText style classifier (its held-out accuracy in meta)
    baselines: dict[str, dict[str, Any]]  # copy, references, LM-searched word by word: test rows
    models: dict[str, TrainedModel]      # MODEL, then one fine-tune per adversary mode
    selected: str                        # the key of `models` with the best criterion
    plot: str
    seconds: float
    criterion: Criterion = ROUND_TRIP_AND_STYLE

    @property
    def model(self) -> ArtifactRef:
        """The selected generator: what `unpaired restyle --model` takes."""
        return self.models[self.selected].model

    @property
    def round_trip_bleu(self) -> float:
        return self.models[self.selected].round_trip_bleu

    @property
    def selected_step(self) -> int:
        return self.model.meta["best_step"]

    def test_rows(self) -> dict[str, dict[str, Any]]:
        """Every row's test scores by key: baselines first, then the generators."""
        return {**self.baselines, **{k: m.evaluation["row"] for k, m in self.models.items()}}

    def rows(self) -> list[Row]:
        """Copy, the references as output, the LM-searched word by word, and the generators (the one
        with the best criterion selected)."""
        def scores(metrics: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in metrics.items() if k not in SIGNATURE_KEYS}

        names = {**{k: v[0] for k, v in _ROWS.items()}, **FINETUNED_ROWS}
        return [Row(name=names[key], kind=_ROWS.get(key, (None, RowKind.UNSUPERVISED))[1], metrics=scores(m),
                    criterion=self.models[key].criterion_value if key in self.models else None,
                    selected=key == self.selected)
                for key, m in self.test_rows().items()]

    def columns(self) -> list[Column]:
        a, b = self.styles
        out = []
        for d, (x, y) in (("s2t", (a, b)), ("t2s", (b, a))):
            out += [Column(key=f"sacrebleu_{d}", header=f"BLEU {x}->{y}"),
                    Column(key=f"sacrechrf_{d}", header=f"chrF {x}->{y}", digits=1, terminal=False),
                    Column(key=f"style_{d}", header=f"judged {y} % ({x}->{y})", percent=True, digits=1),
                    Column(key=f"pinc_{d}", header=f"PINC {x}->{y}", digits=1),
                    Column(key=f"self_bleu_{d}", header=f"self-BLEU {x}->{y}", digits=1, terminal=False),
                    Column(key=f"perplexity_{d}", header=f"{y} LM perplexity ({x}->{y})", digits=0,
                           terminal=False)]
        return out

    def report(self) -> StageReport:
        a, b = self.styles
        chosen = self.models[self.selected]
        ev, meta, valid = chosen.evaluation, self.model.meta, chosen.evaluation["valid"]
        finetune = [k for k in self.models if k != MODEL]
        notes = [f"Styles: {a} (source) and {b}, one language, no parallel text in training. BLEU/chrF against "
                 f"the test's {b} (and {a}) references, sacreBLEU lowercased; `{_ROWS[COPY][0]}`: the output is the "
                 f"input; `{_ROWS[REFERENCE][0]}`: the reference as output (what the classifier and LM make of "
                 f"real text).",
                 f"Judged: the share of outputs a fastText classifier trained on the two training halves calls "
                 f"the target style (held-out accuracy {self.classifier.meta['valid_accuracy']:.1%}). PINC "
                 f"(0 = the input unchanged, 100 = no n-gram kept) and self-BLEU measure change against the input.",
                 f"Selected: `{self.selected}`, step {self.selected_step} of {meta.get('steps')}, "
                 f"{self.criterion.superlative} {self.criterion.name} ({chosen.criterion_value:.2f}; round-trip BLEU "
                 f"{self.round_trip_bleu:.2f}) among "
                 f"{len(self.models)} generators; the test is never used for selection. On held-out lines of the "
                 f"training styles (no reference): judged {b} {valid['style_s2t']:.1%} ({a}->{b}), judged {a} "
                 f"{valid['style_t2s']:.1%} ({b}->{a}); PINC {valid['pinc_s2t']:.1f} / {valid['pinc_t2s']:.1f}.",
                 f"Beam {ev['beam']}, {ev['test_sentences']} test verses; training "
                 f"{self.models[MODEL].model.meta.get('train_seconds', 0):.0f} s on {meta.get('device')}.",
                 f"Model: `{store().path(self.model)}`"]
        if finetune:
            steps = self.models[finetune[0]].model.meta.get("steps")
            notes.insert(3, f"The `+` rows continue the back-translation model for {steps} more updates each, "
                            f"from the same weights, with its denoising and back-translation losses kept "
                            f"(the cycle keeps content) and the adversary named; the no-adversary and "
                            f"constant-reward rows are their controls (Choshen et al. 2020).")
        return StageReport(key=f"style-transfer-{self.name}", title=f"Style transfer {a} <-> {b} ({self.name})",
                           columns=self.columns(), rows=self.rows(), notes=notes, plots={"training": self.plot})

    def bench_section(self) -> dict[str, Any]:
        """The benchmark's style_transfer section: every row's scores and how they were obtained."""
        def rounded(metrics: dict[str, Any]) -> dict[str, Any]:
            return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}

        a, b = self.styles
        rows, chosen = self.test_rows(), self.models[self.selected].evaluation
        return {"styles": [a, b], "selected": self.selected,
                "bleu_s2t": round(chosen["row"]["sacrebleu_s2t"], 2),
                "bleu_t2s": round(chosen["row"]["sacrebleu_t2s"], 2),
                "copy_bleu_s2t": round(rows[COPY]["sacrebleu_s2t"], 2),
                "copy_bleu_t2s": round(rows[COPY]["sacrebleu_t2s"], 2),
                "judged_target_s2t": round(chosen["row"]["style_s2t"], 4),
                "judged_target_t2s": round(chosen["row"]["style_t2s"], 4),
                "rows": {k: rounded(m) for k, m in rows.items()},
                "valid": {k: rounded(m.evaluation["valid"]) for k, m in self.models.items()},
                "round_trip_bleu": {k: round(m.round_trip_bleu, 2) for k, m in self.models.items()},
                "criterion": {k: round(m.criterion_value, 2) for k, m in self.models.items()},
                "classifier_valid_accuracy": self.classifier.meta["valid_accuracy"],
                "selected_step": self.selected_step, "steps": self.model.meta.get("steps"),
                "model": str(store().path(self.model)),
                "selection": f"max {self.criterion.name}",
                "seconds": round(self.seconds, 1)}


@flow(name="style-transfer", log_prints=True, task_runner=task_runner())
def style_transfer(config: StyleStageConfig | None = None, preset: Preset = Preset.quick,
                   refresh: bool = False) -> StyleTransferResult:
    """Train a generator between two styles of one language from non-parallel text (`config`, else the
    preset's: archaic KJV against modern WEB + BBE), continue it with each adversary, and score every
    generator beside copying the input."""
    start = time.perf_counter()
    config = config or presets.preset(preset).style
    opts = {"refresh_cache": refresh}
    sides, transfer = config.sides, config.transfer
    styles = (sides.src_style, sides.tgt_style)
    prepared = prepare_corpus(sides.corpus(config.embeddings), refresh=refresh, name=sides.name, columns=styles)
    aligned = align_embeddings(prepared.src_vectors, prepared.tgt_vectors, prepared.dictionary, config.align,
                               refresh=refresh, name=sides.name)
    corpora = (prepared.src_corpus, prepared.tgt_corpus)
    classifier = train_style_classifier.with_options(**opts).submit(*corpora, styles, config.classifier)
    baselines = evaluate_style_baselines.with_options(**opts).submit(
        prepared.test, *corpora, classifier, aligned.exported, transfer.translate, transfer.test_sentences)
    # checkpoints and generators are selected by round-trip BLEU and the classifier's judged share together
    trained = train_backtranslation.with_options(**opts).submit(*corpora, aligned.exported, transfer.translate,
                                                                transfer.device, classifier)
    runs = {MODEL: trained}
    runs.update(finetune_runs(trained, *corpora, aligned.exported, transfer, refresh, classifier))
    evaluations = {key: evaluate_style.with_options(**opts).submit(
        run, prepared.test, *corpora, classifier, transfer.eval_beam, transfer.test_sentences, transfer.device)
        for key, run in runs.items()}
    models = {key: TrainedModel(model=run.result(), evaluation=evaluations[key].result()) for key, run in runs.items()}
    selected = ROUND_TRIP_AND_STYLE.best(list(models), lambda k: models[k].criterion_value)
    plot = plot_backtranslation(models[selected].model,
                                data_root() / "reports" / f"style-transfer-{sides.name}.png")
    result = StyleTransferResult(name=sides.name, styles=styles, corpus=prepared, alignment=aligned,
                                 classifier=classifier.result(), baselines=baselines.result(), models=models,
                                 selected=selected, plot=str(plot), seconds=time.perf_counter() - start)
    report = result.report()
    publish_backtranslation_report(report, None)  # the histories of every generator follow
    for key, trained_model in models.items():  # every generator's curves: losses, criterion, D accuracy, reward
        publish_table(f"{report.key}-{key.replace('_', '-')}-checkpoints",
                      TrainingHistory.load(store().path(trained_model.model)).rounded(),
                      description=f"{key}: losses, round-trip BLEU and the adversary's accuracy and reward per checkpoint")
    print(report.markdown(embed_plots=False))  # the UI's copy embeds the plots
    return result
