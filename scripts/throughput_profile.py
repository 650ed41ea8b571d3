"""Back-translation training throughput on the quick preset's model, on a synthetic corpus.

Random Zipf-distributed sentences of 4..40 words over 7,000 words a language, random 300-d
aligned vectors, the identity lexicon: the shapes and the work of a quick-preset run (d_model
128, 2+2 layers, 4 heads, ff 512, 5,000 words, 1,000 padded tokens a batch), not its data. One
JSON line: the training summary's throughput keys, wall and CPU seconds of the training steps.
`--profile` adds torch.profiler's operator table (self CPU time) on stderr.

    nice .venv/bin/python scripts/throughput_profile.py --steps 60 --wbw 20 --threads 1
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch

from components.backtranslate.config import ModelConfig, TrainConfig, TranslateConfig
from components.backtranslate.train import new_model, prepare_corpora, train
from components.backtranslate.vocab import Vocabulary
from components.embeddings import Embeddings
from components.presets import preset


def synthetic(lang: str, n: int, words: int, rng: np.random.Generator) -> tuple[list[str], Embeddings]:
    p = 1.0 / np.arange(1, words + 1)
    vocab = [f"{lang}{i}" for i in range(words)]
    lines = [" ".join(vocab[j] for j in rng.choice(words, size=rng.integers(4, 41), p=p / p.sum()))
             for _ in range(n)]
    return lines, Embeddings(vocab, rng.normal(size=(words, 300)).astype(np.float32))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--wbw", type=int, default=20, help="word-by-word steps before greedy back-translation")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sentences", type=int, default=6000)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    quick = preset("quick").backtranslate.translate
    config = TranslateConfig(model=quick.model, noise=quick.noise, decode=quick.decode,
                             train=quick.train.model_copy(update={"steps": args.steps, "word_by_word_steps": args.wbw,
                                                                  "checkpoint_every": args.steps, "valid_sentences": 10,
                                                                  "max_minutes": None}))
    assert isinstance(config.model, ModelConfig) and isinstance(config.train, TrainConfig)
    rng = np.random.default_rng(0)
    (a, ea), (b, eb) = synthetic("a", args.sentences, 7000, rng), synthetic("b", args.sentences, 7000, rng)
    vocabs = (Vocabulary.build("xa", a, config.model.vocabulary), Vocabulary.build("xb", b, config.model.vocabulary))
    lexicons = ({f"a{i}": f"b{i}" for i in range(7000)}, {f"b{i}": f"a{i}" for i in range(7000)})
    tm = new_model(config, vocabs, (ea, eb), torch.device("cpu"))
    data = prepare_corpora((a, b), (a[:10], b[:10]), tm.vocabs, lexicons, config)
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            result = train(tm, data, config)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25), file=sys.stderr)
    else:
        result = train(tm, data, config)
    s = result.summary()
    keys = ("steps", "tokens_per_second", "train_flops", "generation_flops", "step_seconds", "step_cpu_seconds",
            "achieved_flops_per_second", "peak_flops_per_second", "peak_fraction")
    weights = sum(float(v.double().sum()) for v in result.best_state.values())
    print(json.dumps({"threads": args.threads, **{k: s[k] for k in keys}, "weights_sum": weights}))


if __name__ == "__main__":
    main()
