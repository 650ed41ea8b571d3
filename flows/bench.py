"""The benchmark: run the pipelines on built-in data and write one JSON report (DESIGN.md s.5)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow, task

from components import presets
from components.atomic import write_json
from components.presets import Preset

from flows.align import align_embeddings, alignment_section
from flows.backtranslate import backtranslate, translation_section
from flows.corpus import prepare_corpus
from flows.runner import task_runner
from flows.speech import speech, speech_section
from flows.style import style_transfer


@task(name="write-report")
def write_report(report: dict[str, Any], out: Path) -> Path:
    """Write the report atomically, so a reader never sees half a file."""
    return write_json(Path(out), report, indent=2)


@flow(name="benchmark", log_prints=True, task_runner=task_runner())
def benchmark(pair: str = "en-fr", preset: Preset = Preset.quick, out: Path = Path("data/reports/bench.json"),
              stages: tuple[str, ...] = ("alignment", "translation", "speech", "style_transfer")) -> dict[str, Any]:
    """Every stage on the built-in data of `pair`; the report holds one section per stage.

    The speech and style-transfer sections are the built-in English benchmarks, whatever the pair. `stages` limits
    what runs after the corpus stage (translation needs alignment)."""
    start = time.perf_counter()
    settings = presets.preset(preset)
    corpus = prepare_corpus(settings.corpus(pair))
    report: dict[str, Any] = {
        "pair": corpus.pair,
        "preset": Preset(preset).value,
        "corpus": corpus.bench_section(),
    }
    if "alignment" in stages or "translation" in stages:
        alignment = align_embeddings(corpus.src_vectors, corpus.tgt_vectors, corpus.dictionary,
                                     settings.align)
        report["alignment"] = alignment_section(alignment, *corpus.pair.split("-"))
        write_report(report, out)  # each finished section is on disk before the next stage starts
    if "translation" in stages:
        model = backtranslate(corpus.src_corpus, corpus.tgt_corpus, corpus.test, alignment.exported,
                              settings.backtranslate)
        report["translation"] = translation_section(model)
        write_report(report, out)
    if "speech" in stages:
        report["speech"] = speech_section(speech(settings.speech))
        write_report(report, out)
    if "style_transfer" in stages:
        report["style_transfer"] = style_transfer(settings.style, preset).bench_section()
    report["seconds"] = round(time.perf_counter() - start, 1)
    write_report(report, out)
    return report
