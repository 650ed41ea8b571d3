"""Stage 3: unsupervised translation by denoising and on-the-fly back-translation, beside word-by-word."""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow
from pydantic import BaseModel

from components.device import DeviceRequest
from components.errors import InputError
from components.store import ArtifactRef
from components.text import prepare_sentence
from components.backtranslate.bundle import load_bundle, translate_text
from components.backtranslate.config import BacktranslateStageConfig
from components import presets
from tasks.backtranslate import (evaluate_translation, history, model_directory, plot_translation,
                                 publish_translation_report, train_translation, word_by_word)
from tasks.gpu import device_slot
from tasks.runtime import data_root
from tasks.store import store

METRICS = ("bleu_s2t", "bleu_t2s", "chrf_s2t", "chrf_t2s")


class BacktranslateResult(BaseModel):
    pair: str
    model: ArtifactRef                   # weights + vocabularies + config: what `translate` takes
    alignment: ArtifactRef               # the aligned vectors the model started from
    metrics: dict[str, Any]              # the model on the test verses
    word_by_word: dict[str, Any]         # the baseline on the same verses
    round_trip_bleu: float               # criterion of the selected checkpoint
    selected_step: int
    plot: str
    seconds: float


@flow(name="backtranslate", log_prints=True)
def backtranslate(src_corpus: ArtifactRef, tgt_corpus: ArtifactRef, test: ArtifactRef, alignment: ArtifactRef,
                  config: BacktranslateStageConfig = presets.preset("quick").backtranslate,
                  refresh: bool = False) -> BacktranslateResult:
    """Train on two monolingual corpora, select by round-trip BLEU, evaluate beside word-by-word."""
    start = time.perf_counter()
    opts = {"refresh_cache": refresh}
    src_lang, tgt_lang = src_corpus.meta["lang"], tgt_corpus.meta["lang"]
    pair = f"{src_lang}-{tgt_lang}"
    baseline = word_by_word.with_options(**opts).submit(alignment, test, src_lang, tgt_lang,
                                                        config.translate.csls_k, config.test_sentences)
    model = train_translation.with_options(**opts).submit(src_corpus, tgt_corpus, alignment, config.translate,
                                                          config.device).result()
    metrics = evaluate_translation.with_options(**opts).submit(model, test, config.eval_beam,
                                                               config.test_sentences, config.device).result()
    wbw = baseline.result()
    plot = plot_translation(model, data_root() / "reports" / f"translation-{pair}.png")
    meta = model.meta
    rows = [{"system": name, **{m: round(v[m], 2) for m in METRICS}}
            for name, v in (("back-translation model", metrics), ("word-by-word (CSLS lexicon)", wbw))]
    checkpoints = [{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} for r in history(model)]
    summary = (f"# Translation {pair}\n\nSelected checkpoint: step {meta['best_step']} of {meta['steps']}, "
               f"highest round-trip BLEU on held-out monolingual sentences ({meta['round_trip_bleu']:.2f}; "
               f"the test verses are never used for selection).\n\n"
               f"Test BLEU {src_lang}->{tgt_lang} {metrics['bleu_s2t']:.2f} (word-by-word {wbw['bleu_s2t']:.2f}), "
               f"{tgt_lang}->{src_lang} {metrics['bleu_t2s']:.2f} (word-by-word {wbw['bleu_t2s']:.2f}); "
               f"beam {config.eval_beam}, {metrics['test_sentences']} verses.\n\n"
               f"Aligned vectors: {alignment.meta.get('method', '?')} seed {alignment.meta.get('seed', '?')} "
               f"(`{alignment.sha256[:12]}`). Training {meta['train_seconds']:.0f} s, "
               f"{meta['tokens_per_second']:.0f} target tokens/s on {meta['device']}.\n\n"
               f"Model: `{store().path(model)}`\nPlot: `{plot}`\n")
    publish_translation_report(pair, rows, checkpoints, summary)
    print(summary)
    return BacktranslateResult(pair=pair, model=model, alignment=alignment, metrics=metrics, word_by_word=wbw,
                               round_trip_bleu=meta["round_trip_bleu"], selected_step=meta["best_step"],
                               plot=str(plot), seconds=time.perf_counter() - start)


def translation_section(result: BacktranslateResult) -> dict[str, Any]:
    """DESIGN.md section 5 keys of the benchmark report, plus how the numbers were obtained."""
    meta = result.model.meta
    return {
        **{m: round(result.metrics[m], 2) for m in METRICS},
        "round_trip_bleu": round(result.round_trip_bleu, 2),
        "seconds": round(result.seconds, 1),
        "word_by_word": {m: round(result.word_by_word[m], 2) for m in METRICS},
        "model": str(store().path(result.model)),
        "model_sha256": result.model.sha256,
        "selection": "max round-trip BLEU (src->tgt->src and tgt->src->tgt) on held-out monolingual sentences",
        "selected_step": result.selected_step,
        "steps": meta.get("steps"),
        "round_trip_bleu_src": meta.get("round_trip_bleu_src"),
        "round_trip_bleu_tgt": meta.get("round_trip_bleu_tgt"),
        "train_seconds": meta.get("train_seconds"),
        "tokens_per_second": meta.get("tokens_per_second"),
        "device": meta.get("device"),
        "beam": result.metrics.get("beam"),
        "test_sentences": result.metrics.get("test_sentences"),
        "alignment": {"sha256": result.alignment.sha256, "method": result.alignment.meta.get("method"),
                      "seed": result.alignment.meta.get("seed")},
        "plot": result.plot,
    }


def translate(model: ArtifactRef | str | Path, sentences: Sequence[str], direction: str = "s2t", beam: int = 4,
              device: DeviceRequest = "auto") -> list[str]:
    """Translate raw sentences with a trained model (a ref, its directory, or its sha256).

    direction: 's2t', 't2s' or 'src-tgt' language codes (e.g. 'fr-en'). Text is normalised,
    lowercased and tokenised as the corpus was; the output is lowercased tokens joined by spaces.
    Words the model never saw (names, another script) are passed through.
    """
    if beam < 1:
        raise InputError(f"beam {beam}", "must be at least 1")
    with device_slot(device) as dev:
        tm = load_bundle(model_directory(model), dev)
        if direction in ("s2t", "t2s"):
            src = 0 if direction == "s2t" else 1
        else:
            parts = direction.split("-")
            if len(parts) != 2 or set(parts) != set(tm.langs) or parts[0] == parts[1]:
                raise InputError(f"direction {direction!r}",
                                 f"expected s2t, t2s, {'-'.join(tm.langs)} or {'-'.join(tm.langs[::-1])}")
            src = tm.side(parts[0])
        tokens = [" ".join(prepare_sentence(s, tm.langs[src], lowercase=True)) for s in sentences]
        return translate_text(tm, tokens, src, 1 - src, beam=beam)
