"""Does GAN training keep the right answer when it starts there?

Trains the GAN's own (linear) generator on the paired segment labels of the training audio,
then continues from those weights with the unsupervised GAN objective and prints, at each
evaluation, the test PER and the unsupervised criterion. If PER climbs while training goes
on, the objective does not hold the correct phone mapping on these features, and no longer
run, other seed or better search can be expected to find it. Labels are used here for
diagnosis only; nothing in the pipeline reads this script's output.

    .venv/bin/python scripts/speech_identifiability.py --text TEXT_DIR \
        --train SEGMENTS_DIR... --test SEGMENTS_DIR... [--steps 1000]

TEXT_DIR is a `speech-text` artifact directory, SEGMENTS_DIR a `speech-segments` one (both
under data/store/objects after a speech run).
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch

from components.speech.config import GanConfig, LmConfig, SupervisedConfig
from components.speech.criterion import lm_sequences, weighted_lm_ppl
from components.speech.gan import Discriminator, train_gan, transcribe
from components.speech.lm import NgramLM
from components.speech.metrics import phone_error_rate
from components.speech.phones import PHONES, SILENCE_ID, decode_ids
from components.speech.supervised import train_supervised


def read_segments(dirs: list[Path]) -> tuple[list[torch.Tensor], list[list[int]], list[list[str]]]:
    xs, labels, refs = [], [], []
    for d in dirs:
        seg = torch.load(d / "segments.pt", weights_only=True)
        xs += seg["x"]
        labels += seg["labels"]
        refs += json.loads((d / "refs.json").read_text(encoding="utf-8"))["phones"]
    if any(l is None for l in labels):
        raise SystemExit("these segments have no alignments: nothing to start from")
    return xs, labels, refs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, required=True)
    parser.add_argument("--train", type=Path, nargs="+", required=True)
    parser.add_argument("--test", type=Path, nargs="+", required=True)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    x_train, labels, _ = read_segments(args.train)
    x_test, _, refs = read_segments(args.test)
    text = json.loads((args.text / "text.json").read_text(encoding="utf-8"))["phones"]
    lm_cfg = LmConfig()
    lm = NgramLM.fit(lm_sequences(text), order=lm_cfg.lm_phone_order, discount=lm_cfg.lm_discount,
                     vocab=[i for i in range(len(PHONES)) if i != SILENCE_ID])
    cfg = GanConfig(gan_steps=args.steps)
    device = torch.device("cpu")

    def test_per(g: torch.nn.Module) -> float:
        return phone_error_rate(refs, [decode_ids(h) for h in transcribe(g, x_test, device)])

    def criterion(hyps: list[list[int]]) -> float:
        return weighted_lm_ppl(hyps, lm)

    start = train_supervised(x_train, labels, len(PHONES), cfg.generator,
                             SupervisedConfig(supervised_hidden=0, supervised_steps=3000), device, seed=0)
    g0 = start.generator(cfg.generator, device)
    print(f"start (trained on labels): test PER {test_per(g0):.3f}, "
          f"criterion {criterion(transcribe(g0, x_train[:cfg.gan_eval_utterances], device)):.1f}")
    # a resume state whose generator is the labelled one; discriminator and optimisers fresh
    disc = Discriminator(len(PHONES), cfg.discriminator)
    resume = {"generator": start.generator_state, "discriminator": disc.state_dict(),
              "opt_g": torch.optim.Adam(g0.parameters()).state_dict(),
              "opt_d": torch.optim.Adam(disc.parameters()).state_dict(), "step": 0, "history": [],
              "best_score": math.inf, "best_state": None, "best_step": 0,
              "rng": torch.Generator().manual_seed(0).get_state()}
    train_gan(x_train, text, len(PHONES), cfg, device, seed=0, score=criterion, resume=resume,
              monitor=lambda g: {"test_per": test_per(g)},
              progress=lambda step, row: print(f"GAN step {step}: test PER {row['test_per']:.3f}, "
                                               f"criterion {row['score']:.1f}, D loss {row['loss_d']:.3f}"))


if __name__ == "__main__":
    main()
