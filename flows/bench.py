"""The benchmark: run the pipelines on built-in data and write one JSON report (DESIGN.md s.5)."""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.corpus import prepare_corpus
from flows.presets import Preset, corpus_config


@task(name="write-report")
def write_report(report: dict[str, Any], out: Path) -> Path:
    """Write the report atomically, so a reader never sees half a file."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out.name, dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


@flow(name="benchmark", log_prints=True)
def benchmark(pair: str = "en-fr", preset: Preset = Preset.quick,
              out: Path = Path("data/reports/bench.json")) -> dict[str, Any]:
    """Every stage on the built-in data of `pair`; the report holds one section per stage."""
    start = time.perf_counter()
    corpus = prepare_corpus(corpus_config(pair, preset))
    report: dict[str, Any] = {
        "pair": corpus.pair,
        "preset": Preset(preset).value,
        "corpus": {
            "src_tokens": corpus.src_corpus.meta["train_tokens"],
            "tgt_tokens": corpus.tgt_corpus.meta["train_tokens"],
            "src_sentences": corpus.src_corpus.meta["train_sentences"],
            "tgt_sentences": corpus.tgt_corpus.meta["train_sentences"],
            "src_vocabulary": corpus.src_vectors.meta["words"],
            "tgt_vocabulary": corpus.tgt_vectors.meta["words"],
            "test_sentences": corpus.test.meta["sentences"],
            "dict_seed_pairs": corpus.dictionary.meta["seed_pairs"],
            "dict_test_pairs": corpus.dictionary.meta["test_pairs"],
            "leakage": corpus.leakage,
            "seconds": round(corpus.seconds, 1),
        },
    }
    report["seconds"] = round(time.perf_counter() - start, 1)
    write_report(report, out)
    return report
