"""Speech tasks: GAN seeds, self-training on the selected seed's labels, supervised references."""
from __future__ import annotations

import shutil
import time
from typing import Any, Callable

import torch
from prefect import get_run_logger, task

from components.atomic import atomic_path
from components.device import DeviceRequest
from components.speech.catalog.recogniser import Recogniser
from components.speech.catalog.segments import Segments
from components.speech.catalog.text import PhonemisedText
from components.speech.config import GanConfig, GeneratorConfig, LmConfig, SupervisedConfig
from components.speech.criterion import phone_lm, weighted_lm_ppl
from components.speech.gan import TrainedGenerator, train_gan, transcribe
from components.speech.metrics import phone_error_rate, reference_phones
from components.speech.phones import PHONES, decode_ids
from components.speech.supervised import Reference, self_training, supervised_reference
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE, checkpoint_dir, run_key
from tasks.gpu import device_slot
from tasks.store import store


def _segments(refs: list[ArtifactRef]) -> Segments:
    return Segments.read([store().path(r) for r in refs])


def _text(ref: ArtifactRef) -> PhonemisedText:
    return PhonemisedText.load(store().path(ref))


def _save(kind: str, name: str, trained: TrainedGenerator, meta: dict[str, Any]) -> ArtifactRef:
    meta = {**meta, "criterion": trained.score, "step": trained.step, "hidden": trained.hidden}
    with store().writer(kind, name, meta, directory=True) as out:
        Recogniser(trained).save(out.path)
    return out.ref


def _test_per(test: Segments | None, device: torch.device) -> Callable[[torch.nn.Module], dict[str, float | None]]:
    """Monitor for GAN evaluations: test PER of a generator (plots only, it steers nothing)."""
    refs = reference_phones(test.phones, test.texts) if test is not None else None

    def monitor(generator: torch.nn.Module) -> dict[str, float | None]:
        if refs is None:
            return {"test_per": None}
        return {"test_per": phone_error_rate(refs, [decode_ids(h) for h in transcribe(generator, test.x, device)])}
    return monitor


@task(name="train-gan", task_run_name="gan-seed-{seed}", cache_policy=STAGE_CACHE)
def train_gan_seed(train: list[ArtifactRef], text: ArtifactRef, monitor: list[ArtifactRef], gan: GanConfig,
                   lm_config: LmConfig, seed: int, device: DeviceRequest = "auto") -> ArtifactRef:
    """One GAN run; the checkpoint kept is the best by the unsupervised criterion. Test PER
    of each evaluated checkpoint (from `monitor`) is recorded for plots only: it steers nothing."""
    log = get_run_logger()
    start = time.perf_counter()
    seg, phonemised = _segments(train), _text(text)
    lm = phone_lm(phonemised.phones, lm_config)
    test = _segments(monitor) if monitor else None
    ckpt = checkpoint_dir("speech-gan", run_key(train_gan_seed.fn, [r.sha256 for r in train], text.sha256,
                                                gan.model_dump(mode="json"), lm_config.model_dump(mode="json"),
                                                seed)) / "checkpoint.pt"
    resume = torch.load(ckpt, weights_only=True) if ckpt.is_file() else None
    if resume is not None:
        log.info(f"resuming GAN seed {seed} from step {resume['step']}")

    def save_checkpoint(state: dict) -> None:
        with atomic_path(ckpt) as tmp:
            torch.save(state, tmp)

    def progress(step: int, row: dict[str, float]) -> None:
        log.info(f"GAN seed {seed} step {step}: " + ", ".join(
            f"{k} {v:.3f}" for k, v in row.items() if isinstance(v, float)))

    with device_slot(device) as dev:
        trained = train_gan(seg.x, phonemised.phones, len(PHONES), gan, dev, seed,
                            score=lambda hyps: weighted_lm_ppl(hyps, lm), progress=progress,
                            checkpoint=save_checkpoint, resume=resume, monitor=_test_per(test, dev))
    shutil.rmtree(ckpt.parent, ignore_errors=True)
    return _save("speech-gan", f"gan-seed-{seed}", trained, {"seed": seed, "origin": f"gan seed {seed}",
                                                             "seconds": round(time.perf_counter() - start, 1)})


@task(name="self-train", task_run_name="self-train-{gan.meta[origin]}", cache_policy=STAGE_CACHE)
def self_train(gan: ArtifactRef, train: list[ArtifactRef], text: ArtifactRef, gan_config: GanConfig,
               supervised: SupervisedConfig, lm_config: LmConfig, device: DeviceRequest = "auto") -> ArtifactRef:
    """wav2vec-U's second step: retrain the wider supervised-architecture generator on the
    selected GAN's own per-segment labels, `self_train_rounds` times. Unsupervised: no
    transcript enters; the result is scored by the same criterion."""
    start = time.perf_counter()
    seg = _segments(train)
    lm = phone_lm(_text(text).phones, lm_config)
    current = Recogniser.load(store().path(gan)).trained
    with device_slot(device) as dev:
        current = self_training(current, seg.x, len(PHONES), gan_config.generator, supervised, dev,
                                gan_config.gan_eval_utterances, score=lambda hyps: weighted_lm_ppl(hyps, lm))
    return _save("speech-self-trained", "self-trained", current,
                 {"seed": gan.meta["seed"], "origin": f"self-trained on {gan.meta['origin']}",
                  "seconds": round(time.perf_counter() - start, 1)})


@task(name="train-reference", task_run_name="reference-{reference.name}", cache_policy=STAGE_CACHE)
def train_reference(train: list[ArtifactRef], text: ArtifactRef, generator: GeneratorConfig,
                    supervised: SupervisedConfig, lm_config: LmConfig, n_eval: int,
                    device: DeviceRequest = "auto", reference: Reference = Reference.features) -> ArtifactRef | None:
    """A supervised reference: the same features and a generator with `supervised_hidden`
    hidden units (0: the GAN's own linear generator) trained on paired segment labels. None
    when the training audio has no alignments."""
    seg = _segments(train)
    if any(l is None for l in seg.labels):
        return None
    start = time.perf_counter()
    lm = phone_lm(_text(text).phones, lm_config)
    with device_slot(device) as dev:
        trained = supervised_reference(seg.x, seg.labels, len(PHONES), generator, supervised, dev, n_eval,
                                       score=lambda hyps: weighted_lm_ppl(hyps, lm))
    return _save("speech-supervised", "supervised", trained,
                 {"origin": reference.value, "reference": reference.name,
                  "seconds": round(time.perf_counter() - start, 1)})
