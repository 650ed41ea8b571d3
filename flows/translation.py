"""The translation pipeline: corpora -> embeddings -> cross-lingual mapping -> unsupervised NMT."""
from __future__ import annotations

import time

from prefect import flow
from pydantic import BaseModel

from components import presets
from components.align.config import AlignStageConfig
from components.backtranslate.config import BacktranslateStageConfig
from components.corpus import CorpusConfig
from components.plots import markdown_image
from components.presets import Preset
from flows.align import AlignStageResult, align_embeddings
from flows.backtranslate import BacktranslateResult, backtranslate
from flows.corpus import CorpusResult, prepare_corpus
from flows.runner import task_runner
from tasks.publish import publish_markdown


class TranslationResult(BaseModel):
    corpus: CorpusResult
    alignment: AlignStageResult
    translation: BacktranslateResult | None
    seconds: float


@flow(name="translation", log_prints=True, task_runner=task_runner())
def translation_pipeline(pair: str = "en-fr", preset: Preset = Preset.quick, corpus: CorpusConfig | None = None,
                         align: AlignStageConfig | None = None, translate: BacktranslateStageConfig | None = None,
                         train_model: bool = True, refresh: bool = False) -> TranslationResult:
    """Every translation stage for `pair` with the preset's settings; `corpus`/`align`/`translate`
    override them; `train_model=False` stops after the mapping."""
    start = time.perf_counter()
    settings = presets.preset(preset)
    prepared = prepare_corpus(corpus or settings.corpus(pair), refresh=refresh)
    aligned = align_embeddings(prepared.src_vectors, prepared.tgt_vectors, prepared.dictionary,
                               align or settings.align, refresh=refresh)
    model = None
    if train_model:
        model = backtranslate(prepared.src_corpus, prepared.tgt_corpus, prepared.test, aligned.exported,
                              translate or settings.backtranslate, refresh=refresh)
    result = TranslationResult(corpus=prepared, alignment=aligned, translation=model,
                               seconds=time.perf_counter() - start)
    unsup = aligned.selected_row()
    s, t = prepared.pair.split("-")
    lines = [f"# Translation pipeline {prepared.pair}", "",
             f"- corpus: {prepared.src_corpus.meta['train_tokens']:,} / {prepared.tgt_corpus.meta['train_tokens']:,} "
             f"training tokens (artifact `corpus-{prepared.pair}`)",
             f"- alignment: selected unsupervised map `{unsup.name}`, word translation P@1 "
             f"(CSLS, {s}->{t}) {100 * unsup.metrics['p1_csls_s2t']:.1f} % (artifact `alignment-{prepared.pair}`)"]
    if model is not None:
        lines.append(f"- translation: {model.bleu_summary()}; round-trip BLEU {model.round_trip_bleu:.2f}")
    lines.append(f"- total {result.seconds:.0f} s")
    lines += ["", markdown_image("alignment training", aligned.plot)]
    if model is not None:
        lines += ["", markdown_image("back-translation training", model.plot)]
    publish_markdown(f"translation-pipeline-{prepared.pair}", "\n".join(lines) + "\n",
                             description=f"Translation pipeline {prepared.pair}")
    return result
