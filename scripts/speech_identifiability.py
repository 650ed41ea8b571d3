"""Does GAN training keep the right answer when it starts there? (issue 16's gate)

Trains the GAN's own (linear) generator on the paired segment labels of the training audio,
then continues from those weights with the unsupervised GAN objective and prints, at each
evaluation, the test PER and the unsupervised criterion. If PER climbs while training goes
on, the objective does not hold the correct phone mapping on these features, and no longer
run, other seed or better search can be expected to find it. Labels are used here for
diagnosis only; nothing in the pipeline reads this script's output.

    .venv/bin/python scripts/speech_identifiability.py --text TEXT_DIR \
        --train SEGMENTS_DIR... --test SEGMENTS_DIR... [--steps 1000] \
        [--normalise voice-whiten] [--text-source t2p] [--odm-weight 0]

TEXT_DIR is a `speech-text` artifact directory, SEGMENTS_DIR a `speech-segments` one (both
under data/store/objects after a speech run). Variants of the gate:
--normalise: per-voice standardisation or whitening of the segment features (voice = the
    last '-' field of an utterance id, as the built-in corpus names them), each split from
    its own utterances;
--text-source t2p: the unpaired sentences phonemised again by flite's own front end
    (`t2p` on the whole sentence), the phonemiser the audio's alignments come from;
--adversarial-weight / --odm-weight / --unigram-weight / --gp / --code-penalty / --smoothness: the generator's extra terms;
--gumbel: the discriminator sees hard (straight-through Gumbel) outputs instead of softmaxes.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from components.speech.catalog.segments import Segments
from components.speech.catalog.text import PhonemisedText
from components.speech.config import GanConfig, GeneratorConfig, LmConfig, SupervisedConfig
from components.speech.criterion import phone_lm, weighted_lm_ppl
from components.speech.gan import TrainedGenerator, train_gan, transcribe
from components.speech.metrics import phone_error_rate, reference_phones
from components.speech.normalise import normalise_by_group, voice_of
from components.speech.phones import PHONES, decode_ids, flite_phonemise
from components.speech.supervised import train_supervised


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, required=True)
    parser.add_argument("--train", type=Path, nargs="+", required=True)
    parser.add_argument("--test", type=Path, nargs="+", required=True)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--normalise", choices=("none", "voice-standardise", "voice-whiten"), default="none")
    parser.add_argument("--text-source", choices=("artifact", "t2p"), default="artifact")
    parser.add_argument("--sentences", type=Path, help="one unpaired sentence a line (for --text-source t2p)")
    parser.add_argument("--odm-weight", type=float, default=GanConfig().gan_odm_weight)
    parser.add_argument("--adversarial-weight", type=float, default=GanConfig().gan_adversarial_weight)
    parser.add_argument("--unigram-weight", type=float, default=GanConfig().gan_unigram_weight)
    parser.add_argument("--gp", type=float, default=GanConfig().gan_gradient_penalty)
    parser.add_argument("--code-penalty", type=float, default=GanConfig().gan_code_penalty)
    parser.add_argument("--smoothness", type=float, default=GanConfig().gan_smoothness_weight)
    parser.add_argument("--gumbel", action="store_true", help="hard Gumbel-softmax outputs: one-hot like the text")
    parser.add_argument("--hidden", type=int, default=0, help="hidden conv units of the generator (0: the GAN's linear one)")
    parser.add_argument("--json", type=Path, help="write the trajectory here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    train, test = Segments.read(args.train), Segments.read(args.test)
    refs = reference_phones(test.phones, test.texts)
    if refs is None or any(l is None for l in train.labels):
        raise SystemExit("these segments have no alignments: nothing to start from or score against")
    train_x, test_x = train.x, test.x
    if args.normalise != "none":
        whiten = args.normalise == "voice-whiten"
        train_x = normalise_by_group(train.x, [voice_of(i) for i in train.ids], whiten)
        test_x = normalise_by_group(test.x, [voice_of(i) for i in test.ids], whiten)
    if args.text_source == "t2p":
        lines = args.sentences.read_text(encoding="utf-8").splitlines()
        text = flite_phonemise(lines)
    else:
        text = PhonemisedText.load(args.text).phones
    lm = phone_lm(text, LmConfig())
    cfg = GanConfig(gan_steps=args.steps, gan_eval_every=args.eval_every, gan_odm_weight=args.odm_weight, gan_unigram_weight=args.unigram_weight,
                    gan_adversarial_weight=args.adversarial_weight,
                    gan_gradient_penalty=args.gp, gan_code_penalty=args.code_penalty,
                    gan_smoothness_weight=args.smoothness,
                    generator=GeneratorConfig(generator_gumbel=args.gumbel, generator_hidden=args.hidden))
    device = torch.device("cpu")

    def test_per(g: torch.nn.Module) -> float:
        return phone_error_rate(refs, [decode_ids(h) for h in transcribe(g, test_x, device)])

    def criterion(hyps: list[list[int]]) -> float:
        return weighted_lm_ppl(hyps, lm)

    t0 = time.perf_counter()
    labelled = train_labelled(train_x, train.labels, cfg, device)
    g0 = labelled.generator(cfg.generator, device)
    start = {"step": 0, "test_per": test_per(g0),
             "score": criterion(transcribe(g0, train_x[:cfg.gan_eval_utterances], device))}
    print(f"start (trained on labels): test PER {start['test_per']:.3f}, criterion {start['score']:.1f} "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)
    rows = [start]

    def progress(step: int, row: dict) -> None:
        rows.append(row)
        print(f"GAN step {step}: test PER {row['test_per']:.3f}, criterion {row['score']:.1f}, "
              f"D loss {row['loss_d']:.3f}, odm {row['odm']:.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)

    train_gan(train_x, text, len(PHONES), cfg, device, seed=0, score=criterion, start=labelled.generator_state,
              monitor=lambda g: {"test_per": test_per(g)}, progress=progress)
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}))


def train_labelled(x: list[torch.Tensor], labels: list[list[int]], cfg: GanConfig,
                   device: torch.device) -> TrainedGenerator:
    """The GAN's generator (its hidden width included) trained on the segment labels."""
    return train_supervised(x, labels, len(PHONES), cfg.generator,
                            SupervisedConfig(supervised_hidden=cfg.generator.generator_hidden, supervised_steps=3000),
                            device, seed=0)


if __name__ == "__main__":
    main()
