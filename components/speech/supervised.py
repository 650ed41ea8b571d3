"""Reference rows beside the unsupervised GAN.

- `train_supervised`: the same segment features and generator, trained with cross-entropy on
  paired segment labels (the upper reference), or on the GAN's own labels (self-training,
  which stays unsupervised).
- `self_training`: wav2vec-U's second step, rounds of `train_supervised` on the current
  model's own labels.
- `most_frequent_phone_baseline`: the trivial lower reference; `random_text_baseline`: chance.
"""
from __future__ import annotations

from collections import Counter
from enum import Enum
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from components.errors import InputError, UnpairedError
from components.speech.config import GeneratorConfig, SupervisedConfig
from components.speech.gan import Generator, TrainedGenerator, pad_batch, seed_generators, seed_module, transcribe
from components.speech.phones import SILENCE_ID

Score = Callable[[list[list[int]]], float]  # the unsupervised criterion of phone-id outputs


class Reference(str, Enum):
    """The supervised references (value: the row's name)."""

    features = "supervised reference"                 # a wider generator: what the features allow
    linear = "supervised reference, GAN's generator"  # the GAN's own linear one: what the GAN could reach


def train_supervised(segments: Sequence[torch.Tensor], labels: Sequence[Sequence[int]],
                     n_phones: int, generator_cfg: GeneratorConfig, cfg: SupervisedConfig,
                     device: torch.device, seed: int,
                     progress: Callable[[int, dict[str, float]], None] | None = None) -> TrainedGenerator:
    """Fit a `Generator` to per-segment phone labels by cross-entropy.

    segments: list of (T_i, in_dim) features; labels: one phone id per segment (len T_i each).
    The generator gets a hidden layer of `supervised_hidden` units (0 keeps the GAN's shape).
    """
    if len(segments) != len(labels) or not segments:
        raise InputError("supervised", f"{len(segments)} utterances but {len(labels)} label sequences")
    for i, (s, l) in enumerate(zip(segments, labels)):
        if s.shape[0] != len(l):
            raise InputError(f"utterance {i}", f"{s.shape[0]} segments but {len(l)} labels")
    gen = torch.Generator(device="cpu").manual_seed(seed)
    gcfg = generator_cfg.model_copy(update={"generator_hidden": cfg.supervised_hidden})
    model = Generator(int(segments[0].shape[1]), n_phones, gcfg).to(device)
    seed_module(model, *seed_generators(seed, device))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.supervised_lr)
    lab_t = [torch.tensor(l, dtype=torch.long) for l in labels]
    history = []
    for step in range(cfg.supervised_steps):
        model.train()
        idx = torch.randint(len(segments), (cfg.supervised_batch_size,), generator=gen).tolist()
        x, mask = pad_batch([segments[i].float() for i in idx])
        y, _ = pad_batch([lab_t[i] for i in idx])
        x, mask, y = x.to(device), mask.to(device), y.to(device)
        loss = F.cross_entropy(model(x, mask)[mask], y[mask])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if not torch.isfinite(loss):
            raise UnpairedError(f"supervised seed {seed}: non-finite loss at step {step}")
        if (step + 1) % 250 == 0 or step + 1 == cfg.supervised_steps:
            row = {"step": step + 1, "loss": loss.item()}
            history.append(row)
            if progress is not None:
                progress(step + 1, row)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return TrainedGenerator(state, model.in_dim, n_phones, cfg.supervised_steps, float("nan"), history,
                            hidden=cfg.supervised_hidden)


def supervised_reference(segments: Sequence[torch.Tensor], labels: Sequence[Sequence[int]], n_phones: int,
                         generator_cfg: GeneratorConfig, cfg: SupervisedConfig, device: torch.device,
                         n_eval: int, score: Score) -> TrainedGenerator:
    """`train_supervised` on paired labels (seed 0), scored by `score` on its outputs for the
    first `n_eval` utterances, as the unsupervised models are."""
    trained = train_supervised(segments, labels, n_phones, generator_cfg, cfg, device, seed=0)
    hyps = transcribe(trained.generator(generator_cfg, device), segments[:n_eval], device)
    trained.score = score(hyps)
    return trained


def self_training(start: TrainedGenerator, segments: Sequence[torch.Tensor], n_phones: int,
                  generator_cfg: GeneratorConfig, cfg: SupervisedConfig, device: torch.device, n_eval: int,
                  score: Score) -> TrainedGenerator:
    """`self_train_rounds` rounds: label each segment with the current model's argmax, retrain
    the supervised-architecture generator on those labels (seed = round), score it. No
    transcript enters."""
    current = start
    for rnd in range(cfg.self_train_rounds):
        labels = pseudo_labels(current.generator(generator_cfg, device), segments, device)
        current = train_supervised(segments, labels, n_phones, generator_cfg, cfg, device, seed=rnd)
        hyps = transcribe(current.generator(generator_cfg, device), segments[:n_eval], device)
        current.score = score(hyps)
    return current


@torch.no_grad()
def pseudo_labels(model: Generator, segments: Sequence[torch.Tensor], device: torch.device) -> list[list[int]]:
    """The model's argmax phone per segment (not merged), for self-training."""
    model.eval()
    out = []
    for s in segments:
        x = s.float().to(device)[None]
        out.append(model(x).argmax(-1)[0].cpu().tolist())
    return out


def most_frequent_phone_baseline(text: Sequence[Sequence[int]], n_utterances: int) -> list[list[int]]:
    """Trivial output: the most frequent non-silence phone of the text, once per utterance."""
    counts = Counter(p for t in text for p in t if p != SILENCE_ID)
    if not counts:
        raise InputError("text", "has no speech phones")
    top = counts.most_common(1)[0][0]
    return [[top] for _ in range(n_utterances)]


def random_text_baseline(text: Sequence[Sequence[int]], lengths: Sequence[int], seed: int = 0) -> list[list[int]]:
    """Chance output: for each utterance, a random stretch of the unpaired text's speech phones
    (silence dropped, repeats merged) of the given length. With the reference lengths it
    shows what text-like phones that ignore the audio score (about 0.89 PER here)."""
    pool = [p for t in text for j, p in enumerate(t) if p != SILENCE_ID and (j == 0 or t[j - 1] != p)]
    if not pool:
        raise InputError("text", "has no speech phones")
    gen = torch.Generator().manual_seed(seed)
    out = []
    for n in lengths:
        n = min(n, len(pool))
        s = int(torch.randint(len(pool) - n + 1, (1,), generator=gen))
        out.append(pool[s:s + n])
    return out
