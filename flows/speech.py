"""The speech pipeline: audio -> phones by an unsupervised GAN -> words, with references.

prepare audio (sharded) and text -> segmenter -> segments (sharded) -> GAN seeds (parallel)
-> selection by the unsupervised criterion -> self-training -> supervised references and
trivial baseline -> decoding and evaluation -> one packaged model, plots and tables.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

from prefect import flow
from pydantic import BaseModel

from components.device import DeviceRequest, cuda_device_count, select_device
from components.errors import InputError
from components import presets
from components.presets import Preset
from components.speech.config import SpeechStageConfig
from components.speech.corpus import shards
from components.speech.metrics import spearman
from components.speech.model import SpeechModel, transcribe_files
from components.store import ArtifactRef
from flows.runner import task_runner
from tasks.runtime import data_root
from tasks.speech import (SUPERVISED, SUPERVISED_LINEAR, evaluate_baseline, evaluate_chance, evaluate_recogniser,
                          fit_segmentation, package_model, plot_confusion, plot_training, prepare_audio, prepare_text,
                          publish_speech_report, segment_audio, self_train, speech_utterances, train_gan_seed,
                          train_reference)
from tasks.store import store


class SpeechStageResult(BaseModel):
    model: ArtifactRef                 # the packaged recogniser (`transcribe` takes it)
    selected: str                      # which row it is
    rows: dict[str, dict[str, Any]]    # row name -> per, wer, criterion, seconds, ...
    spearman_checkpoints: float | None  # criterion vs test PER over every evaluated checkpoint
    spearman_seeds: float | None        # criterion vs test PER over the seeds' kept checkpoints
    corpus: dict[str, Any]
    problems: dict[str, str]           # skipped audio files -> why
    plots: dict[str, str]
    seconds: float


def _row(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r.get(k) for k in ("per", "wer", "criterion", "step", "seconds", "utterances")}


@flow(name="speech", log_prints=True, task_runner=task_runner())
def speech(config: SpeechStageConfig | None = None, preset: Preset = Preset.quick,
           refresh: bool = False) -> SpeechStageResult:
    """Train the unsupervised recogniser on unpaired audio and text, select by the criterion,
    evaluate beside the references, and package the model (`config` overrides the preset)."""
    start = time.perf_counter()
    config = config or presets.preset(preset).speech
    opts = {"refresh_cache": refresh}
    cfg = config.speech
    utts = speech_utterances(config.data)
    text = prepare_text.with_options(**opts).submit(config.data)
    audio = {split: [prepare_audio.with_options(**opts).submit(part, cfg.features, split, i)
                     for i, part in enumerate(shards(utts[split], config.data.shards))]
             for split in ("train", "test")}
    audio_refs = {split: [f.result() for f in futs] for split, futs in audio.items()}
    problems = {k: v for refs in audio_refs.values() for r in refs for k, v in r.meta["problems"].items()}
    for name, why in problems.items():
        print(f"skipped {name}: {why}")
    train_audio = [r for r in audio_refs["train"] if r.meta["utterances"]]
    test_audio = [r for r in audio_refs["test"] if r.meta["utterances"]]
    if not train_audio:
        raise InputError("training audio", f"no usable file among {len(utts['train'])}")
    segmenter = fit_segmentation.with_options(**opts).submit(train_audio, cfg.segment)
    train = [segment_audio.with_options(**opts).submit(a, segmenter, cfg.segment) for a in train_audio]
    test = [segment_audio.with_options(**opts).submit(a, segmenter, cfg.segment) for a in test_audio]
    train_refs, test_refs = [f.result() for f in train], [f.result() for f in test]
    text_ref = text.result()
    gans = [train_gan_seed.with_options(**opts).submit(train_refs, text_ref, test_refs, cfg.gan, cfg.lm, s,
                                                      config.device)
            for s in config.seeds]
    # the wider generator shows what the features allow; the GAN's own linear one, what the
    # GAN could reach if matching text found the right mapping
    linear = cfg.supervised.model_copy(update={"supervised_hidden": 0})
    references = ([train_reference.with_options(**opts).submit(
        train_refs, text_ref, cfg.gan.generator, sup, cfg.lm, cfg.gan.gan_eval_utterances, config.device, name)
                   for sup, name in ((cfg.supervised, SUPERVISED), (linear, SUPERVISED_LINEAR))]
                  if config.references else [])
    gan_refs = [g.result() for g in gans]
    best_gan = min(gan_refs, key=lambda r: r.meta["criterion"])  # unsupervised: no transcript involved
    candidates = [best_gan]
    if cfg.supervised.self_train_rounds:
        candidates.append(self_train.with_options(**opts).submit(best_gan, train_refs, text_ref, cfg.gan,
                                                                 cfg.supervised, cfg.lm, config.device).result())
    selected = min(candidates, key=lambda r: r.meta["criterion"])
    model = package_model.with_options(**opts).submit(selected, segmenter, text_ref, cfg)

    # every trained model has a row (criterion at least), evaluated or not
    rows: dict[str, dict[str, Any]] = {r.meta["origin"]: _row({"criterion": r.meta["criterion"], "step": r.meta["step"],
                                                               "seconds": r.meta["seconds"]})
                                       for r in gan_refs + candidates[1:]}
    full: dict[str, dict[str, Any]] = {}
    if test_refs:
        evals = {r.meta["origin"]: evaluate_recogniser.with_options(**opts).submit(
            r, test_refs, text_ref, cfg, config.decode_words and r == selected) for r in gan_refs + candidates[1:]}
        for ref in (f.result() for f in references):
            if ref is not None:  # words for the main reference only: decoding is the slow part
                evals[ref.meta["origin"]] = evaluate_recogniser.with_options(**opts).submit(
                    ref, test_refs, text_ref, cfg, config.decode_words and ref.meta["origin"] == SUPERVISED)
        evals["trivial baseline"] = evaluate_baseline.with_options(**opts).submit(test_refs, text_ref, cfg,
                                                                                  config.decode_words)
        evals["random text (reference length)"] = evaluate_chance.with_options(**opts).submit(test_refs, text_ref, cfg)
        full = {name: r for name, f in evals.items() if (r := f.result()) is not None}
        rows.update({name: _row(r) for name, r in full.items()})
    sel_name = selected.meta["origin"]
    points = [(h["score"], h["test_per"]) for g in gan_refs for h in _history(g)
              if h.get("test_per") is not None and h.get("score") is not None and h["score"] < float("inf")]
    rho_ckpt = spearman([c for c, _ in points], [p for _, p in points])
    seed_rows = [rows[g.meta["origin"]] for g in gan_refs if g.meta["origin"] in rows]
    rho_seeds = (spearman([r["criterion"] for r in seed_rows], [r["per"] for r in seed_rows])
                 if all(r["per"] is not None for r in seed_rows) else None)
    reports = data_root() / "reports"
    plots = {"training": str(plot_training(gan_refs, best_gan, reports / "speech-training.png"))}
    if full.get(sel_name, {}).get("confusion"):
        plots["confusion"] = str(plot_confusion(full[sel_name]["confusion"], f"phone confusion: {sel_name}",
                                                reports / "speech-confusion.png"))
    corpus = {"train_utterances": sum(r.meta["utterances"] for r in train_audio),
              "test_utterances": sum(r.meta["utterances"] for r in test_audio),
              "train_frames": sum(r.meta["frames"] for r in train_audio),
              "train_segments": sum(r.meta["segments"] for r in train_refs),
              "text_sentences": text_ref.meta["sentences"], "text_phones": text_ref.meta["phones"],
              "text_dropped": text_ref.meta["dropped"], "lexicon_words": text_ref.meta["vocabulary"],
              "skipped_files": len(problems)}
    table = [{"row": name, "PER %": _pct(r["per"]), "WER %": _pct(r["wer"]),
              "criterion": "" if r["criterion"] is None else round(r["criterion"], 2),
              "selected": "yes" if name == sel_name else ""} for name, r in rows.items()]
    examples = []
    if sel_name in full:
        sel = full[sel_name]
        examples = [{"utterance": i, "recognised phones": sel["hyps"][i],
                     "words": (sel.get("words") or [""] * (i + 1))[i]} for i in range(min(5, len(sel["hyps"])))]
    summary = (f"# Speech\n\nSelected **{sel_name}**: lowest unsupervised criterion "
               f"({selected.meta['criterion']:.2f}: phone-LM perplexity of its outputs on training audio / "
               f"squared share of phones used; no transcript) among {len(gan_refs)} GAN seeds"
               f"{' and the self-trained model' if len(candidates) > 1 else ''}.\n\n"
               f"Spearman(criterion, test PER): checkpoints {_fmt(rho_ckpt)}, seeds {_fmt(rho_seeds)} "
               f"(positive = the criterion ranks like PER).\n\n"
               + "".join(f"- {t['row']}: PER {t['PER %']}%, WER {t['WER %']}%\n" for t in table)
               + f"\nModel: `{store().path(model.result())}`\nPlots: "
               + ", ".join(f"`{p}`" for p in plots.values()) + "\n"
               + (f"\nSkipped {len(problems)} audio files (see log).\n" if problems else ""))
    publish_speech_report(table, examples, summary)
    print(summary)
    return SpeechStageResult(model=model.result(), selected=sel_name, rows=rows, spearman_checkpoints=rho_ckpt,
                             spearman_seeds=rho_seeds, corpus=corpus, problems=problems, plots=plots,
                             seconds=time.perf_counter() - start)


def _history(ref: ArtifactRef) -> list[dict[str, Any]]:
    import json

    return json.loads((store().path(ref) / "history.json").read_text())


def _pct(x: float | None) -> float | str:
    return "" if x is None else round(100 * x, 1)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def speech_section(result: SpeechStageResult) -> dict[str, Any]:
    """DESIGN.md s.5 "speech" keys (PER and WER as fractions) plus the rows and correlations."""
    sel = result.rows.get(result.selected, {})
    sup = result.rows.get(SUPERVISED, {})
    linear = result.rows.get(SUPERVISED_LINEAR, {})
    base = result.rows.get("trivial baseline", {})
    chance = result.rows.get("random text (reference length)", {})
    return {"per": sel.get("per"), "wer": sel.get("wer"), "supervised_per": sup.get("per"),
            "supervised_wer": sup.get("wer"), "supervised_linear_per": linear.get("per"),
            "baseline_per": base.get("per"), "baseline_wer": base.get("wer"), "chance_per": chance.get("per"),
            "criterion": sel.get("criterion"), "seconds": round(result.seconds, 1),
            "model": str(store().path(result.model)), "selected": result.selected,
            "selection": "min unsupervised criterion (phone-LM perplexity / phone usage^2)",
            "spearman_criterion_per_checkpoints": result.spearman_checkpoints,
            "spearman_criterion_per_seeds": result.spearman_seeds,
            "rows": result.rows, "corpus": result.corpus, "skipped_files": result.problems, "plots": result.plots}


def transcribe(model: ArtifactRef | str | Path, files: Sequence[str | Path], words: bool = True,
               device: DeviceRequest = "auto") -> list[dict[str, Any]]:
    """Recognise audio files with a packaged model (an ArtifactRef, or the model directory's
    path). One dict per file, in order: {'file', 'phones', 'words', 'error'}; a file that
    cannot be read gets its `error` and empty phones/words, and the rest still run."""
    path = store().path(model) if isinstance(model, ArtifactRef) else Path(model)
    loaded = SpeechModel.load(path)
    dev = select_device(device, cuda_device_count())
    return [t.as_dict() for t in transcribe_files(loaded, list(files), dev, words=words)]
