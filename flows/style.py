"""The style-transfer pipeline: two styles of one language -> their embeddings -> a map between them ->
a generator trained by denoising and back-translation between the styles, scored beside copying."""
from __future__ import annotations

import time
from typing import Any

from prefect import flow
from pydantic import BaseModel

from components import presets
from components.backtranslate.criterion import ROUND_TRIP_BLEU
from components.backtranslate.metrics import SIGNATURE_KEYS
from components.presets import Preset
from components.report import Column, Criterion, Row, RowKind, StageReport
from components.store import ArtifactRef
from components.style.config import StyleStageConfig
from components.style.evaluate import COPY, LM_WORD_BY_WORD, MODEL, REFERENCE
from flows.align import AlignStageResult, align_embeddings
from flows.corpus import CorpusResult, prepare_corpus
from flows.runner import task_runner
from tasks.backtranslate.report import plot_backtranslation, publish_backtranslation_report
from tasks.backtranslate.train import train_backtranslation
from tasks.runtime import data_root
from tasks.store import store
from tasks.style.classifier import train_style_classifier
from tasks.style.evaluate import evaluate_style

# row key -> (display name, kind)
_ROWS = {COPY: ("copy the input", RowKind.BASELINE), REFERENCE: ("the references", RowKind.REFERENCE),
         LM_WORD_BY_WORD: ("word by word, top-k CSLS searched with the target style's LM", RowKind.BASELINE),
         MODEL: ("denoising + back-translation", RowKind.UNSUPERVISED)}


class StyleTransferResult(BaseModel):
    name: str                            # e.g. en-archaic-modern
    styles: tuple[str, str]
    corpus: CorpusResult
    alignment: AlignStageResult
    classifier: ArtifactRef              # fastText style classifier (its held-out accuracy in meta)
    model: ArtifactRef                   # what `unpaired restyle --model` takes
    evaluation: dict[str, Any]           # rows on the test, unsupervised scores on held-out lines
    round_trip_bleu: float               # criterion of the selected checkpoint
    selected_step: int
    plot: str
    seconds: float
    criterion: Criterion = ROUND_TRIP_BLEU

    def rows(self) -> list[Row]:
        """Copy, the references as output, the LM-searched word by word, and the model (selected by
        round-trip BLEU)."""
        def scores(metrics: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in metrics.items() if k not in SIGNATURE_KEYS}

        return [Row(name=_ROWS[key][0], kind=_ROWS[key][1], metrics=scores(m),
                    criterion=self.round_trip_bleu if key == MODEL else None, selected=key == MODEL)
                for key, m in self.evaluation["rows"].items()]

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
        ev, meta = self.evaluation, self.model.meta
        valid = ev["valid"]
        notes = [f"Styles: {a} (source) and {b}, one language, no parallel text in training. BLEU/chrF against "
                 f"the test's {b} (and {a}) references, sacreBLEU lowercased; `{_ROWS[COPY][0]}`: the output is the "
                 f"input; `{_ROWS[REFERENCE][0]}`: the reference as output (what the classifier and LM make of "
                 f"real text).",
                 f"Judged: the share of outputs a fastText classifier trained on the two training halves calls "
                 f"the target style (held-out accuracy {self.classifier.meta['valid_accuracy']:.1%}). PINC "
                 f"(0 = the input unchanged, 100 = no n-gram kept) and self-BLEU measure change against the input.",
                 f"Selected checkpoint: step {self.selected_step} of {meta.get('steps')}, "
                 f"{self.criterion.superlative} {self.criterion.name} ({self.round_trip_bleu:.2f}); the test is "
                 f"never used for selection. On held-out training-style lines (no reference): judged {b} "
                 f"{valid['style_s2t']:.1%} ({a}->{b}), judged {a} {valid['style_t2s']:.1%} ({b}->{a}); PINC "
                 f"{valid['pinc_s2t']:.1f} / {valid['pinc_t2s']:.1f}.",
                 f"Beam {ev['beam']}, {ev['test_sentences']} test verses; training "
                 f"{meta.get('train_seconds', 0):.0f} s on {meta.get('device')}.",
                 f"Model: `{store().path(self.model)}`"]
        return StageReport(key=f"style-transfer-{self.name}", title=f"Style transfer {a} <-> {b} ({self.name})",
                           columns=self.columns(), rows=self.rows(), notes=notes, plots={"training": self.plot})

    def bench_section(self) -> dict[str, Any]:
        """The benchmark's style_transfer section: every row's scores and how they were obtained."""
        def rounded(metrics: dict[str, Any]) -> dict[str, Any]:
            return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}

        a, b = self.styles
        rows = self.evaluation["rows"]
        return {"styles": [a, b], "bleu_s2t": round(rows[MODEL]["sacrebleu_s2t"], 2),
                "bleu_t2s": round(rows[MODEL]["sacrebleu_t2s"], 2),
                "copy_bleu_s2t": round(rows[COPY]["sacrebleu_s2t"], 2),
                "copy_bleu_t2s": round(rows[COPY]["sacrebleu_t2s"], 2),
                "judged_target_s2t": round(rows[MODEL]["style_s2t"], 4),
                "judged_target_t2s": round(rows[MODEL]["style_t2s"], 4),
                "rows": {k: rounded(m) for k, m in rows.items()},
                "valid": rounded(self.evaluation["valid"]),
                "classifier_valid_accuracy": self.classifier.meta["valid_accuracy"],
                "round_trip_bleu": round(self.round_trip_bleu, 2), "selected_step": self.selected_step,
                "steps": self.model.meta.get("steps"), "model": str(store().path(self.model)),
                "selection": "max round-trip BLEU on held-out monolingual lines of both styles",
                "seconds": round(self.seconds, 1)}


@flow(name="style-transfer", log_prints=True, task_runner=task_runner())
def style_transfer(config: StyleStageConfig | None = None, preset: Preset = Preset.quick,
                   refresh: bool = False) -> StyleTransferResult:
    """Train a generator between two styles of one language from non-parallel text (`config`, else the
    preset's: archaic KJV against modern WEB + BBE), and score it beside copying the input."""
    start = time.perf_counter()
    config = config or presets.preset(preset).style
    opts = {"refresh_cache": refresh}
    sides = config.sides
    styles = (sides.src_style, sides.tgt_style)
    prepared = prepare_corpus(sides.corpus(config.embeddings), refresh=refresh)
    aligned = align_embeddings(prepared.src_vectors, prepared.tgt_vectors, prepared.dictionary, config.align,
                               refresh=refresh)
    classifier = train_style_classifier.with_options(**opts).submit(prepared.src_corpus, prepared.tgt_corpus,
                                                                    styles, config.classifier)
    model = train_backtranslation.with_options(**opts).submit(
        prepared.src_corpus, prepared.tgt_corpus, aligned.exported, config.transfer.translate,
        config.transfer.device).result()
    evaluation = evaluate_style.with_options(**opts).submit(
        model, prepared.test, prepared.src_corpus, prepared.tgt_corpus, classifier, aligned.exported,
        config.transfer.translate, config.transfer.eval_beam, config.transfer.test_sentences,
        config.transfer.device).result()
    plot = plot_backtranslation(model, data_root() / "reports" / f"style-transfer-{sides.name}.png")
    result = StyleTransferResult(name=sides.name, styles=styles, corpus=prepared, alignment=aligned,
                                 classifier=classifier.result(), model=model, evaluation=evaluation,
                                 round_trip_bleu=model.meta["round_trip_bleu"], selected_step=model.meta["best_step"],
                                 plot=str(plot), seconds=time.perf_counter() - start)
    report = result.report()
    publish_backtranslation_report(report, model)
    print(report.markdown(embed_plots=False))  # the UI's copy embeds the plots
    return result
