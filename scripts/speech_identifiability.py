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
from pathlib import Path

import torch

from components.speech.catalog.segments import Segments
from components.speech.catalog.text import PhonemisedText
from components.speech.config import GanConfig, LmConfig, SupervisedConfig
from components.speech.criterion import phone_lm, weighted_lm_ppl
from components.speech.gan import train_gan, transcribe
from components.speech.metrics import phone_error_rate, reference_phones
from components.speech.phones import PHONES, decode_ids
from components.speech.supervised import train_supervised


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, required=True)
    parser.add_argument("--train", type=Path, nargs="+", required=True)
    parser.add_argument("--test", type=Path, nargs="+", required=True)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    train, test = Segments.read(args.train), Segments.read(args.test)
    refs = reference_phones(test.phones, test.texts)
    if refs is None or any(l is None for l in train.labels):
        raise SystemExit("these segments have no alignments: nothing to start from or score against")
    text = PhonemisedText.load(args.text).phones
    lm = phone_lm(text, LmConfig())
    cfg = GanConfig(gan_steps=args.steps)
    device = torch.device("cpu")

    def test_per(g: torch.nn.Module) -> float:
        return phone_error_rate(refs, [decode_ids(h) for h in transcribe(g, test.x, device)])

    def criterion(hyps: list[list[int]]) -> float:
        return weighted_lm_ppl(hyps, lm)

    labelled = train_supervised(train.x, train.labels, len(PHONES), cfg.generator,
                                SupervisedConfig(supervised_hidden=0, supervised_steps=3000), device, seed=0)
    g0 = labelled.generator(cfg.generator, device)
    print(f"start (trained on labels): test PER {test_per(g0):.3f}, "
          f"criterion {criterion(transcribe(g0, train.x[:cfg.gan_eval_utterances], device)):.1f}")
    train_gan(train.x, text, len(PHONES), cfg, device, seed=0, score=criterion, start=labelled.generator_state,
              monitor=lambda g: {"test_per": test_per(g)},
              progress=lambda step, row: print(f"GAN step {step}: test PER {row['test_per']:.3f}, "
                                               f"criterion {row['score']:.1f}, D loss {row['loss_d']:.3f}"))


if __name__ == "__main__":
    main()
