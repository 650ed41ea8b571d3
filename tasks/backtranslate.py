"""Tasks of the back-translation stage: word-by-word baseline, training, evaluation, report."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import torch
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from components.corpus import Sentences
from components.device import DeviceRequest
from components.embeddings import Embeddings, read_vec
from components.errors import InputError
from components.store import ArtifactRef
from components.backtranslate.bundle import load_bundle, save_bundle, translate_text
from components.backtranslate.config import TranslateConfig
from components.backtranslate.metrics import bleu, chrf
from components.backtranslate.train import new_model, prepare_corpora, train
from components.backtranslate.vocab import Vocabulary
from components.backtranslate.wordbyword import csls_lexicon, translate_words
from tasks.gpu import device_slot
from tasks.progress import Progress
from tasks.cache import STAGE_CACHE, checkpoint_dir, run_key
from tasks.store import store



def langs(src_corpus: ArtifactRef, tgt_corpus: ArtifactRef) -> tuple[str, str]:
    return src_corpus.meta["lang"], tgt_corpus.meta["lang"]


def load_aligned(alignment: ArtifactRef, src_lang: str, tgt_lang: str) -> tuple[Embeddings, Embeddings]:
    """The two aligned `.vec` files of an alignment export (one shared space)."""
    root = store().path(alignment)
    return read_vec(root / f"{src_lang}.vec"), read_vec(root / f"{tgt_lang}.vec")


def lexicons(aligned: tuple[Embeddings, Embeddings], k: int) -> tuple[dict[str, str], dict[str, str]]:
    """CSLS word translations both ways (s2t matches the export's `lexicon.tsv`)."""
    return csls_lexicon(aligned[0], aligned[1], k), csls_lexicon(aligned[1], aligned[0], k)


def read_lines(ref: ArtifactRef, stem: str) -> list[str]:
    return Sentences.read(store().path(ref), stem).lines


def test_lines(test: ArtifactRef, limit: int | None) -> tuple[list[str], list[str]]:
    src, tgt = read_lines(test, "src"), read_lines(test, "tgt")
    return (src[:limit], tgt[:limit]) if limit else (src, tgt)


def scores(hyp_s2t: list[str], hyp_t2s: list[str], src: list[str], tgt: list[str]) -> dict[str, float]:
    return {"bleu_s2t": bleu(hyp_s2t, tgt), "bleu_t2s": bleu(hyp_t2s, src),
            "chrf_s2t": chrf(hyp_s2t, tgt), "chrf_t2s": chrf(hyp_t2s, src)}


@task(name="word-by-word", task_run_name="word-by-word", cache_policy=STAGE_CACHE)
def word_by_word(alignment: ArtifactRef, test: ArtifactRef, src_lang: str, tgt_lang: str, csls_k: int,
                 test_sentences: int | None) -> dict[str, Any]:
    """The baseline row: each test token replaced by its CSLS translation (unknown tokens copied)."""
    aligned = load_aligned(alignment, src_lang, tgt_lang)
    lex = lexicons(aligned, csls_k)
    src, tgt = test_lines(test, test_sentences)
    hyp_s2t, hyp_t2s = translate_words(src, lex[0]), translate_words(tgt, lex[1])
    return {**scores(hyp_s2t, hyp_t2s, src, tgt), "examples": list(zip(src[:3], hyp_s2t[:3], tgt[:3]))}


@task(name="train-translation", task_run_name="train-translation", cache_policy=STAGE_CACHE)
def train_translation(src_corpus: ArtifactRef, tgt_corpus: ArtifactRef, alignment: ArtifactRef,
                      config: TranslateConfig, device: DeviceRequest = "auto") -> ArtifactRef:
    """Denoising + back-translation from two monolingual corpora; the model with the best round-trip
    BLEU (held-out monolingual sentences) becomes one artifact: weights, vocabularies, config, history.

    Checkpoints go to `<store>/checkpoints/<hash of inputs, config and code>/`, so a killed run
    started again resumes from its last checkpoint.
    """
    src_lang, tgt_lang = langs(src_corpus, tgt_corpus)
    aligned = load_aligned(alignment, src_lang, tgt_lang)
    train_lines = (read_lines(src_corpus, "train"), read_lines(tgt_corpus, "train"))
    valid_lines = (read_lines(src_corpus, "valid"), read_lines(tgt_corpus, "valid"))
    names = (f"{src_lang} corpus {src_corpus.sha256[:12]}", f"{tgt_lang} corpus {tgt_corpus.sha256[:12]}")
    vocabs = tuple(Vocabulary.build(lang, lines, config.model.vocabulary, source=name)
                   for lang, lines, name in zip((src_lang, tgt_lang), train_lines, names))
    key = run_key(train_translation.fn, src_corpus.sha256, tgt_corpus.sha256, alignment.sha256,
                  config.model_dump(mode="json"))
    run_dir = checkpoint_dir("backtranslate", key)
    start = time.perf_counter()
    with device_slot(device) as dev, Progress(f"backtranslate-{src_lang}-{tgt_lang}", "back-translation steps",
                                              config.train.steps) as progress:
        tm = new_model(config, vocabs, aligned, dev)  # type: ignore[arg-type]
        data = prepare_corpora(train_lines, valid_lines, tm.vocabs, lexicons(aligned, config.csls_k), config,
                               names)
        result = train(tm, data, config, checkpoint=run_dir / "checkpoint.pt", fingerprint=key,
                       on_step=progress.update)
    best = next((r for r in result.history if r["step"] == result.best_step), {})
    trained = [r for r in result.history if r.get("tokens_per_second")]
    meta = {"pair": f"{src_lang}-{tgt_lang}", "best_step": result.best_step,
            "round_trip_bleu": result.best_criterion,
            "round_trip_bleu_src": best.get("round_trip_bleu_src"),
            "round_trip_bleu_tgt": best.get("round_trip_bleu_tgt"),
            "steps": result.history[-1]["step"] if result.history else 0,
            "train_seconds": round(result.seconds, 1), "seconds": round(time.perf_counter() - start, 1),
            "tokens_per_second": round(sum(r["tokens_per_second"] for r in trained) / max(1, len(trained)), 1),
            "resumed_from": result.resumed_from, "alignment": alignment.sha256,
            "alignment_method": alignment.meta.get("method"), "alignment_seed": alignment.meta.get("seed"),
            "device": str(dev)}
    with store().writer("translation-model", f"translation-{src_lang}-{tgt_lang}", meta, directory=True) as out:
        save_bundle(out.path, result.best_state, tm.vocabs, config, meta)
        (out.path / "history.json").write_text(json.dumps(result.history, indent=1), encoding="utf-8")
    shutil.rmtree(run_dir, ignore_errors=True)  # the model is stored: the checkpoint has done its job
    return out.ref


@task(name="evaluate-translation", task_run_name="evaluate-translation",
      cache_policy=STAGE_CACHE)
def evaluate_translation(model: ArtifactRef, test: ArtifactRef, beam: int, test_sentences: int | None,
                         device: DeviceRequest = "auto") -> dict[str, Any]:
    """BLEU and chrF of the model on the held-out parallel test verses, both directions: reporting only."""
    src, tgt = test_lines(test, test_sentences)
    start = time.perf_counter()
    with device_slot(device) as dev:
        tm = load_bundle(store().path(model), dev)
        hyp_s2t = translate_text(tm, src, 0, 1, beam=beam)
        hyp_t2s = translate_text(tm, tgt, 1, 0, beam=beam)
    return {**scores(hyp_s2t, hyp_t2s, src, tgt), "beam": beam, "test_sentences": len(src),
            "decode_seconds": round(time.perf_counter() - start, 1),
            "examples": list(zip(src[:3], hyp_s2t[:3], tgt[:3]))}


def history(model: ArtifactRef) -> list[dict[str, Any]]:
    return json.loads((store().path(model) / "history.json").read_text(encoding="utf-8"))


@task(name="plot-translation")
def plot_translation(model: ArtifactRef, out: Path) -> Path:
    """Training losses and round-trip BLEU per checkpoint (selected one marked), as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = history(model)
    steps = [r["step"] for r in rows]
    fig, (ax_l, ax_b) = plt.subplots(1, 2, figsize=(11, 4))
    ax_l.plot(steps, [r["ae_loss"] for r in rows], label="denoising")
    ax_l.plot(steps, [r["bt_loss"] for r in rows], label="back-translation")
    ax_l.set(title="training loss (mean per checkpoint interval)", xlabel="step", ylabel="cross-entropy")
    ax_l.legend()
    ax_b.plot(steps, [r["round_trip_bleu_src"] for r in rows], label="src->tgt->src")
    ax_b.plot(steps, [r["round_trip_bleu_tgt"] for r in rows], label="tgt->src->tgt")
    ax_b.plot(steps, [r["criterion"] for r in rows], label="mean (selects)", lw=2.5)
    best = model.meta.get("best_step")
    if best is not None and best >= 0:
        ax_b.axvline(best, color="grey", ls="--", lw=1, label="selected")
    ax_b.set(title="round-trip BLEU, held-out monolingual sentences", xlabel="step", ylabel="BLEU")
    ax_b.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


@task(name="publish-translation-report")
def publish_translation_report(pair: str, rows: list[dict[str, Any]], checkpoints: list[dict[str, Any]],
                               summary: str) -> None:
    """Model and baseline rows, per-checkpoint history, and the summary, for the UI."""
    create_table_artifact(key=f"translation-{pair}", table=rows, description=f"Test BLEU / chrF, {pair}")
    create_table_artifact(key=f"translation-{pair}-checkpoints", table=checkpoints,
                          description="Losses and round-trip BLEU per checkpoint")
    create_markdown_artifact(key=f"translation-{pair}-summary", markdown=summary)


def model_directory(model: ArtifactRef | str | Path) -> Path:
    """Where a model lives: a ref, a directory, or the sha256 (or a unique prefix of 8+) of a stored model."""
    if isinstance(model, ArtifactRef):
        return store().path(model)
    text = str(model).strip()
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    if path.name == "config.json" and path.is_file():
        return path.parent
    lowered = text.lower()
    if len(lowered) >= 8 and all(c in "0123456789abcdef" for c in lowered):
        objects = store().root / "objects" / lowered[:2]
        found = sorted(objects.glob(f"{lowered}*/*/config.json")) if objects.is_dir() else []
        if len(found) == 1:
            return found[0].parent
        if len(found) > 1:
            raise InputError(f"model {text!r}", "prefix matches several models: give more of the sha256")
    raise InputError(f"model {text!r}", "no such model: give the directory of a translation model or the "
                                        "sha256 of one in the artifact store")
