"""The speech pipeline: audio -> phones by an unsupervised GAN -> words, with references.

(store the pretrained model of ssl features) -> prepare audio (sharded) and text -> segmenter
-> segments (sharded) -> GAN seeds (parallel) -> selection by the unsupervised criterion
-> self-training -> supervised references and trivial baseline -> decoding and evaluation
-> one packaged model, plots and tables.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

from prefect import flow
from prefect.futures import PrefectFuture
from pydantic import BaseModel

from components import presets
from components.device import DeviceRequest, cuda_device_count, select_device
from components.errors import InputError
from components.presets import Preset
from components.report import Column, Criterion, Row, RowKind, StageReport
from components.speech.catalog.recogniser import Recogniser
from components.speech.config import FeatureKind, FeaturesConfig, SpeechStageConfig
from components.speech.corpus import shards
from components.speech.criterion import SPEECH_CRITERION
from components.speech.ssl import checkpoint_files
from components.speech.evaluate import Evaluation
from components.stats import spearman
from components.speech.model import SpeechModel, transcribe_files
from components.speech.supervised import Reference
from components.store import ArtifactRef, hash_path
from flows.runner import task_runner
from tasks.runtime import data_root
from tasks.speech.data import import_encoder, prepare_audio, speech_utterances
from tasks.speech.evaluate import evaluate_baseline, evaluate_chance, evaluate_recogniser
from tasks.speech.package import package_model
from tasks.speech.report import plot_confusion, plot_training, publish_speech_report
from tasks.speech.segment import fit_segmentation, segment_audio
from tasks.speech.text import prepare_text
from tasks.speech.train import self_train, train_gan_seed, train_reference
from tasks.store import store

BASELINE = "trivial baseline"
CHANCE = "random text (reference length)"
ROW_KEYS = ("per", "wer", "criterion", "step", "seconds", "utterances")  # a row in the benchmark report


class SpeechStageResult(BaseModel):
    model: ArtifactRef                  # the packaged recogniser (`transcribe` takes it)
    rows: list[Row]                     # GAN seeds, self-trained, references, baseline, chance
    criterion: Criterion = SPEECH_CRITERION  # what selected the model
    spearman_checkpoints: float | None  # criterion vs test PER over every evaluated checkpoint
    spearman_seeds: float | None        # criterion vs test PER over the seeds' kept checkpoints
    corpus: dict[str, Any]
    problems: dict[str, str]            # skipped audio files -> why
    plots: dict[str, str]
    seconds: float

    def rows_of(self, *kinds: RowKind) -> list[Row]:
        return [r for r in self.rows if r.kind in kinds]

    def selected_row(self) -> Row:
        return next(r for r in self.rows if r.selected)

    def reference_row(self, reference: Reference) -> Row | None:
        return next((r for r in self.rows_of(RowKind.SUPERVISED) if r.metrics.get("reference") == reference.name),
                    None)

    def report(self) -> StageReport:
        sel = self.selected_row()
        best = self.criterion.superlative
        seeds = len(self.rows_of(RowKind.UNSUPERVISED))
        notes = [f"Selected **{sel.name}**: {best} unsupervised criterion ({sel.criterion:.2f}: phone-LM "
                 f"perplexity of its outputs on training audio / squared share of phones used; no transcript) "
                 f"among {seeds} GAN seeds"
                 f"{' and the self-trained model' if self.rows_of(RowKind.SELF_TRAINED) else ''}.",
                 f"Spearman(criterion, test PER): checkpoints {_fmt(self.spearman_checkpoints)}, seeds "
                 f"{_fmt(self.spearman_seeds)} (positive = the criterion ranks like PER).",
                 f"Model: `{store().path(self.model)}`"]
        if self.problems:
            notes.append(f"Skipped {len(self.problems)} audio files (see log).")
        columns = [Column(key="per", header="PER %", percent=True, digits=1),
                   Column(key="wer", header="WER %", percent=True, digits=1)]
        return StageReport(key="speech", title="Speech", columns=columns, rows=self.rows, notes=notes,
                           plots=self.plots)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _row(name: str, kind: RowKind, criterion: float | None, ev: Evaluation | None,
         model: ArtifactRef | None = None, selected: bool = False) -> Row:
    meta = model.meta if model is not None else {}
    metrics = {"per": ev.per if ev else None, "wer": ev.wer if ev else None, "step": meta.get("step"),
               "seconds": meta.get("seconds"), "utterances": ev.utterances if ev else None}
    if "reference" in meta:
        metrics["reference"] = meta["reference"]
    return Row(name=name, kind=kind, metrics=metrics, criterion=criterion, selected=selected)


def _evaluated_rows(trained: list[tuple[ArtifactRef, RowKind]], references: list[PrefectFuture],
                    selected: ArtifactRef, test: list[ArtifactRef], text: ArtifactRef, config: SpeechStageConfig,
                    opts: dict[str, Any]) -> tuple[list[Row], Evaluation | None]:
    """Every model, the references, the baseline and chance scored on the test utterances (rows
    in that order), and the selected model's evaluation."""
    cfg, decode = config.speech, config.decode_words
    evaluate = evaluate_recogniser.with_options(**opts)
    # every row gets its WER: the lexicon decoder takes a few seconds for the whole test set
    jobs = [(r, kind, evaluate.submit(r, test, text, cfg, decode)) for r, kind in trained]
    for ref in (f.result() for f in references):
        if ref is not None:
            jobs.append((ref, RowKind.SUPERVISED, evaluate.submit(ref, test, text, cfg, decode)))
    baseline = evaluate_baseline.with_options(**opts).submit(test, text, cfg, decode)
    chance = evaluate_chance.with_options(**opts).submit(test, text, cfg)
    evals = [(r, kind, f.result()) for r, kind, f in jobs]
    rows = [_row(r.meta["origin"], kind, r.meta["criterion"], ev, r, r == selected) for r, kind, ev in evals]
    rows.append(_row(BASELINE, RowKind.BASELINE, (b := baseline.result()).criterion, b))
    if (c := chance.result()) is not None:
        rows.append(_row(CHANCE, RowKind.CHANCE, c.criterion, c))
    return rows, next(ev for r, _, ev in evals if r == selected)


def _spearmans(gans: list[ArtifactRef], rows: list[Row]) -> tuple[float | None, float | None]:
    """Criterion vs test PER: over every evaluated checkpoint, and over the seeds' kept models."""
    points = [(h["score"], h["test_per"]) for g in gans for h in Recogniser.history(store().path(g))
              if h.get("test_per") is not None and h.get("score") is not None and h["score"] < float("inf")]
    rho_ckpt = spearman([c for c, _ in points], [p for _, p in points])
    seeds = [r for r in rows if r.kind is RowKind.UNSUPERVISED]
    rho_seeds = (spearman([r.criterion for r in seeds], [r.metrics["per"] for r in seeds])
                 if all(r.metrics["per"] is not None for r in seeds) else None)
    return rho_ckpt, rho_seeds


def _examples(ev: Evaluation | None) -> list[dict[str, Any]]:
    if ev is None:
        return []
    return [{"utterance": i, "recognised phones": ev.hyps[i], "words": (ev.words or [""] * (i + 1))[i]}
            for i in range(min(5, len(ev.hyps)))]


def _corpus(train_audio: list[ArtifactRef], test_audio: list[ArtifactRef], train: list[ArtifactRef],
            text: ArtifactRef, problems: dict[str, str]) -> dict[str, Any]:
    return {"train_utterances": sum(r.meta["utterances"] for r in train_audio),
            "test_utterances": sum(r.meta["utterances"] for r in test_audio),
            "train_frames": sum(r.meta["frames"] for r in train_audio),
            "train_segments": sum(r.meta["segments"] for r in train),
            "text_sentences": text.meta["sentences"], "text_phones": text.meta["phones"],
            "text_dropped": text.meta["dropped"], "lexicon_words": text.meta["vocabulary"],
            "skipped_files": len(problems)}


def _encoder(features: FeaturesConfig, opts: dict[str, Any]) -> ArtifactRef | None:
    """The stored copy of the pretrained model behind ssl features (None for MFCC / log-mel),
    keyed on the content of the files it is read from."""
    if features.features_kind is not FeatureKind.ssl:
        return None
    files = checkpoint_files(features.features_checkpoint, features.features_format)
    content = "-".join(hash_path(p) for p in files)
    return import_encoder.with_options(**opts).submit(features, content).result()


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
    encoder = _encoder(cfg.features, opts)
    ssl = {"encoder": encoder, "device": config.device} if encoder is not None else {}
    audio = {split: [prepare_audio.with_options(**opts).submit(part, cfg.features, split, i, **ssl)
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
        train_refs, text_ref, cfg.gan.generator, sup, cfg.lm, cfg.gan.gan_eval_utterances, config.device, which)
                   for sup, which in ((cfg.supervised, Reference.features), (linear, Reference.linear))]
                  if config.references else [])
    gan_refs = [g.result() for g in gans]
    best_gan = SPEECH_CRITERION.best(gan_refs, lambda r: r.meta["criterion"])  # no transcript involved
    trained = [(r, RowKind.UNSUPERVISED) for r in gan_refs]
    if cfg.supervised.self_train_rounds:
        trained.append((self_train.with_options(**opts).submit(best_gan, train_refs, text_ref, cfg.gan,
                                                               cfg.supervised, cfg.lm, config.device).result(),
                        RowKind.SELF_TRAINED))
    selected = SPEECH_CRITERION.best([best_gan] + [r for r, k in trained if k is RowKind.SELF_TRAINED],
                                     lambda r: r.meta["criterion"])
    model = package_model.with_options(**opts).submit(selected, segmenter, text_ref, cfg, encoder)

    # every trained model has a row (criterion at least), evaluated or not
    rows = [_row(r.meta["origin"], kind, r.meta["criterion"], None, r, r == selected) for r, kind in trained]
    sel_eval = None
    if test_refs:
        rows, sel_eval = _evaluated_rows(trained, references, selected, test_refs, text_ref, config, opts)
    rho_ckpt, rho_seeds = _spearmans(gan_refs, rows)
    reports = data_root() / "reports"
    plots = {"training": str(plot_training(gan_refs, best_gan, reports / "speech-training.png"))}
    if sel_eval is not None and sel_eval.confusion:
        plots["confusion"] = str(plot_confusion(sel_eval.confusion, f"phone confusion: {selected.meta['origin']}",
                                                reports / "speech-confusion.png"))
    result = SpeechStageResult(model=model.result(), rows=rows, spearman_checkpoints=rho_ckpt,
                               spearman_seeds=rho_seeds,
                               corpus=_corpus(train_audio, test_audio, train_refs, text_ref, problems),
                               problems=problems, plots=plots, seconds=time.perf_counter() - start)
    report = result.report()
    publish_speech_report(report, _examples(sel_eval))
    print(report.markdown(embed_plots=False))  # the UI's copy embeds the plots
    return result


def speech_section(result: SpeechStageResult) -> dict[str, Any]:
    """DESIGN.md s.5 "speech" keys (PER and WER as fractions) plus the rows and correlations."""
    def metric(row: Row | None, key: str) -> Any:
        return None if row is None else row.metrics.get(key)

    sel = result.selected_row()
    sup, linear = result.reference_row(Reference.features), result.reference_row(Reference.linear)
    base = next(iter(result.rows_of(RowKind.BASELINE)), None)
    chance = next(iter(result.rows_of(RowKind.CHANCE)), None)
    best = "max" if result.criterion.higher_is_better else "min"
    return {"per": metric(sel, "per"), "wer": metric(sel, "wer"), "supervised_per": metric(sup, "per"),
            "supervised_wer": metric(sup, "wer"), "supervised_linear_per": metric(linear, "per"),
            "supervised_linear_wer": metric(linear, "wer"),
            "baseline_per": metric(base, "per"), "baseline_wer": metric(base, "wer"),
            "chance_per": metric(chance, "per"), "criterion": sel.criterion, "seconds": round(result.seconds, 1),
            "model": str(store().path(result.model)), "selected": sel.name,
            "selection": f"{best} unsupervised criterion ({result.criterion.name})",
            "spearman_criterion_per_checkpoints": result.spearman_checkpoints,
            "spearman_criterion_per_seeds": result.spearman_seeds,
            "rows": {r.name: {k: r.criterion if k == "criterion" else r.metrics.get(k) for k in ROW_KEYS}
                     for r in result.rows},
            "corpus": result.corpus, "skipped_files": result.problems, "plots": result.plots}


def transcribe(model: ArtifactRef | str | Path, files: Sequence[str | Path], words: bool = True,
               device: DeviceRequest = "auto") -> list[dict[str, Any]]:
    """Recognise audio files with a packaged model (an ArtifactRef, or the model directory's
    path). One dict per file, in order: {'file', 'phones', 'words', 'error'}; a file that
    cannot be read gets its `error` and empty phones/words, and the rest still run."""
    path = store().path(model) if isinstance(model, ArtifactRef) else Path(model)
    loaded = SpeechModel.load(path)
    dev = select_device(device, cuda_device_count())
    return [t.as_dict() for t in transcribe_files(loaded, list(files), dev, words=words)]
