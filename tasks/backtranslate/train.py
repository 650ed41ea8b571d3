"""Training the translation model: denoising + on-the-fly back-translation, resumable, stored as one bundle."""
from __future__ import annotations

import shutil
import time

from prefect import get_run_logger, task

from components.align.catalog import AlignedExport
from components.backtranslate.bundle import load_bundle, save_bundle
from components.backtranslate.catalog import MonolingualCorpus, TrainingHistory
from components.backtranslate.config import TranslateConfig, Units
from components.backtranslate.criterion import ROUND_TRIP_AND_STYLE, ROUND_TRIP_BLEU
from components.backtranslate.train import StyleJudge, new_model, prepare_corpora, train
from components.backtranslate.vocab import build_vocabulary
from components.backtranslate.lmwordbyword import lm_searches
from components.backtranslate.wordbyword import csls_lexicons, unknown_fills
from components.device import DeviceRequest
from components.errors import InputError
from components.store import ArtifactRef
from components.style.classifier import StyleClassifier
from tasks.cache import STAGE_CACHE, checkpoint_dir, run_key
from tasks.gpu import device_slot
from tasks.progress import Progress
from tasks.store import store


@task(name="train-backtranslation", task_run_name="train-backtranslation", cache_policy=STAGE_CACHE)
def train_backtranslation(src_corpus: ArtifactRef, tgt_corpus: ArtifactRef, alignment: ArtifactRef,
                          config: TranslateConfig, device: DeviceRequest = "auto",
                          classifier: ArtifactRef | None = None) -> ArtifactRef:
    """Train on two monolingual corpora; the checkpoint with the best round-trip BLEU (held-out
    monolingual sentences) becomes one artifact: weights, vocabularies, config, history. With a style
    `classifier` (two styles of one language), the best by `style_criterion` instead.

    Checkpoints go to `<store>/checkpoints/<hash of inputs, config and code>/`, so a killed run
    started again resumes from its last checkpoint.
    """
    return _fit(src_corpus, tgt_corpus, alignment, config, device, None, classifier,
                run_key(train_backtranslation.fn, src_corpus.sha256, tgt_corpus.sha256, alignment.sha256,
                        config.model_dump(mode="json"), classifier and classifier.sha256))


@task(name="finetune-backtranslation", task_run_name="finetune-backtranslation-{config.adversary.mode.value}",
      cache_policy=STAGE_CACHE)
def finetune_backtranslation(model: ArtifactRef, src_corpus: ArtifactRef, tgt_corpus: ArtifactRef,
                             alignment: ArtifactRef, config: TranslateConfig,
                             device: DeviceRequest = "auto", classifier: ArtifactRef | None = None) -> ArtifactRef:
    """Continue a trained model (its weights; a fresh optimiser) under `config`, e.g. with an
    adversary; stored like a trained model, with the start's sha256 in its meta."""
    return _fit(src_corpus, tgt_corpus, alignment, config, device, model, classifier,
                run_key(finetune_backtranslation.fn, model.sha256, src_corpus.sha256, tgt_corpus.sha256,
                        alignment.sha256, config.model_dump(mode="json"), classifier and classifier.sha256))


def style_judge(classifier: ArtifactRef) -> StyleJudge:
    """The share of outputs the stored style classifier calls style 0 or 1 (its meta's order)."""
    model, styles = StyleClassifier.load(store().path(classifier)), classifier.meta["styles"]
    return lambda outputs, to: model.share(list(outputs), styles[to]) if outputs else 0.0


def _fit(src_corpus: ArtifactRef, tgt_corpus: ArtifactRef, alignment: ArtifactRef, config: TranslateConfig,
         device: DeviceRequest, start_from: ArtifactRef | None, classifier: ArtifactRef | None,
         key: str) -> ArtifactRef:
    """Train (from the aligned vectors, or from `start_from`'s weights) and store the selected checkpoint."""
    langs = src_corpus.meta["lang"], tgt_corpus.meta["lang"]
    aligned = AlignedExport.load(store().path(alignment), *langs)
    src_text, tgt_text = (MonolingualCorpus.load(store().path(ref)) for ref in (src_corpus, tgt_corpus))
    train_lines, valid_lines = (src_text.train, tgt_text.train), (src_text.valid, tgt_text.valid)
    names = tuple(f"{lang} corpus {ref.sha256[:12]}" for lang, ref in zip(langs, (src_corpus, tgt_corpus)))
    vocabs = tuple(build_vocabulary(lang, lines, config.model.vocabulary, config.model.units == Units.SUBWORD, name)
                   for lang, lines, name in zip(langs, train_lines, names))
    run_dir = checkpoint_dir("backtranslate", key)
    start = time.perf_counter()
    with device_slot(device) as dev, Progress(f"backtranslate-{langs[0]}-{langs[1]}", "back-translation steps",
                                              config.train.steps) as progress:
        tm = new_model(config, vocabs, (aligned.src, aligned.tgt), dev)  # type: ignore[arg-type]
        if start_from is not None:
            trained = load_bundle(store().path(start_from), dev)
            if trained.vocabs != tm.vocabs:
                raise InputError(f"model {start_from.sha256[:12]}", "was trained on other vocabularies than these corpora give")
            tm.model.load_state_dict(trained.model.state_dict())
        lexicons = csls_lexicons(aligned.src, aligned.tgt, config.csls_k)
        warm_up = config.lm_word_by_word.warmup and config.train.word_by_word_steps > 0
        searches = lm_searches((aligned.src, aligned.tgt), train_lines, config) if warm_up else None
        clock = time.perf_counter()
        data = prepare_corpora(train_lines, valid_lines, tm.vocabs, lexicons, config, names,  # type: ignore[arg-type]
                               searches)
        if searches is not None:
            get_run_logger().info(f"warm-up pairs: {sum(len(w[0]) for w in data.warmup)} training sentences "
                                  f"translated word by word with the LM in {time.perf_counter() - clock:.0f} s")
        result = train(tm, data, config, checkpoint=run_dir / "checkpoint.pt", fingerprint=key,
                       on_step=progress.update, judge=None if classifier is None else style_judge(classifier))
    if result.time_capped:
        get_run_logger().warning(
            f"time cap of {config.train.max_minutes} minutes reached at step {result.history[-1]['step']} of "
            f"{config.train.steps}: this model depends on the machine's pace (raise `max_minutes` or lower `steps`)")
    meta = {"pair": "-".join(langs), **result.summary(), "seconds": round(time.perf_counter() - start, 1),
            "alignment": alignment.sha256, "alignment_method": alignment.meta.get("method"),
            "alignment_seed": alignment.meta.get("seed"), "device": str(dev),
            "adversary": config.adversary.mode.value, "units": config.model.units.value,
            "copying": config.model.copying,
            "criterion_name": (ROUND_TRIP_BLEU if classifier is None else ROUND_TRIP_AND_STYLE).name,
            **({"finetuned_from": start_from.sha256} if start_from is not None else {})}
    with store().writer("translation-model", f"translation-{langs[0]}-{langs[1]}", meta, directory=True) as out:
        save_bundle(out.path, result.best_state, tm.vocabs, config, meta,
                    unknown_fills(lexicons, (aligned.src, aligned.tgt), tm.vocabs))  # type: ignore[arg-type]
        TrainingHistory(result.history).save(out.path)
    shutil.rmtree(run_dir, ignore_errors=True)  # the model is stored: the checkpoint has done its job
    return out.ref
