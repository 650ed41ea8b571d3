"""The translation pipeline: corpora -> embeddings -> cross-lingual mapping (-> unsupervised NMT)."""
from __future__ import annotations

import time

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel

from components.corpus import CorpusConfig
from flows.align import AlignStageConfig, AlignStageResult, align_embeddings
from flows.corpus import CorpusResult, prepare_corpus
from flows.presets import Preset, align_config, corpus_config
from flows.runner import task_runner


class TranslationResult(BaseModel):
    corpus: CorpusResult
    alignment: AlignStageResult
    seconds: float


@flow(name="translation", log_prints=True, task_runner=task_runner())
def translation_pipeline(pair: str = "en-fr", preset: Preset = Preset.quick, corpus: CorpusConfig | None = None,
                         align: AlignStageConfig | None = None, refresh: bool = False) -> TranslationResult:
    """Every translation stage for `pair` with the preset's settings; `corpus`/`align` override them."""
    start = time.perf_counter()
    prepared = prepare_corpus(corpus or corpus_config(pair, preset), refresh=refresh)
    aligned = align_embeddings(prepared.src_vectors, prepared.tgt_vectors, prepared.dictionary,
                               align or align_config(preset), refresh=refresh)
    result = TranslationResult(corpus=prepared, alignment=aligned, seconds=time.perf_counter() - start)
    unsup = aligned.rows[f"{aligned.selected.meta['method']} seed {aligned.selected.meta['seed']}"]
    create_markdown_artifact(key=f"translation-{prepared.pair}", description=f"Translation pipeline {prepared.pair}",
                             markdown=(f"# Translation pipeline {prepared.pair}\n\n"
                                       f"- corpus: {prepared.src_corpus.meta['train_tokens']:,} / "
                                       f"{prepared.tgt_corpus.meta['train_tokens']:,} training tokens "
                                       f"(see artifact `corpus-{prepared.pair}`)\n"
                                       f"- alignment: selected unsupervised map P@1 (CSLS, s->t) "
                                       f"{100 * unsup['p1_csls_s2t']:.1f} (see artifact `alignment-{prepared.pair}`); "
                                       f"plot `{aligned.plot}`\n"
                                       f"- total {result.seconds:.0f} s\n"))
    return result
