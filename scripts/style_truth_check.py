"""Does the unsupervised style-transfer objective hold the truth? The generator is trained supervised
on labelled verse pairs, then continued with the unsupervised objective (with each adversary mode).

Pairs and dev verses are verses of the source style's training half outside the test books
(scripts/style_dev_check.py's dev data): the first `--dev-verses` are scored, a seeded sample of the
rest (at most `--pairs`) are the labelled pairs, both directions. The supervised phase is the stage's
`train` with every step in its warm-up round, the round drawing the true pairs (its denoising term
kept). Each continuation starts from the supervised weights and trains on the two non-parallel
corpora as the stage's fine-tune would; at each checkpoint: dev sacreBLEU/chrF both ways, round-trip
BLEU (the criterion) and the adversary's statistics. If the criterion prefers checkpoints whose dev
BLEU fell, the objective does not hold the truth.

    .venv/bin/python scripts/style_truth_check.py [--sup-steps 600] [--cont-steps 300] [--threads 1] [--no-copying]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import tasks  # noqa: F401  (configures the project's paths before anything reads them)
from components.align.catalog import AlignedExport
from components.backtranslate.bundle import TranslationModel, translate_text
from components.backtranslate.catalog import MonolingualCorpus
from components.backtranslate.config import AdversaryMode, FinetuneConfig, TranslateConfig, Units
from components.backtranslate.metrics import SIGNATURE_KEYS, standard_scores
from components.backtranslate.train import Corpora, new_model, prepare_corpora, train
from components.backtranslate.vocab import build_vocabulary
from components.backtranslate.wordbyword import csls_lexicons
from components.corpus import SplitConfig, half_verse_pairs
from components.presets import preset
from components.sources import default_bible_db
from components.text import prepare_sentence
from tasks.store import store

# what each curve point keeps of train's checkpoint row (the rest is throughput accounting)
_ROW_KEYS = ("step", "ae_loss", "bt_loss", "round_trip_bleu_src", "round_trip_bleu_tgt", "criterion", "best",
             "disc_accuracy", "adv_reward", "adv_loss", "seconds")


@dataclasses.dataclass(frozen=True)
class DevSet:
    """Scored verses: tokenised inputs of both styles and the raw references."""

    tok: tuple[list[str], list[str]]   # (source style, target style), tokenised and lowercased
    raw: tuple[list[str], list[str]]

    @classmethod
    def of(cls, verses: list[tuple[str, str]], langs: tuple[str, str]) -> "DevSet":
        """The verses (source-style text, target-style text) tokenised as the corpora are."""
        sides = [v[0] for v in verses], [v[1] for v in verses]
        return cls(([" ".join(prepare_sentence(s, langs[0], True)) for s in sides[0]],
                    [" ".join(prepare_sentence(s, langs[1], True)) for s in sides[1]]), sides)

    def scores(self, tm: TranslationModel, langs: tuple[str, str], beam: int) -> dict[str, float]:
        """sacreBLEU and chrF of `tm`'s output both ways (s2t against the target-style text)."""
        hyps = [translate_text(tm, self.tok[side], side, 1 - side, beam=beam) for side in (0, 1)]
        return _rounded(standard_scores(*hyps, *self.raw, langs))

    def copy_scores(self, langs: tuple[str, str]) -> dict[str, float]:
        """The same scores with the input as output."""
        return _rounded(standard_scores(*self.tok, *self.raw, langs))


def _rounded(scores: dict[str, Any]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in scores.items() if k not in SIGNATURE_KEYS}


def with_pairs(data: Corpora, pairs: list[tuple[list[int], list[int]]]) -> Corpora:
    """`data` with each pair's sentences appended to their side's training text, and the warm-up
    round drawing the pairs: side l's sentence learnt from its partner, as a back-translation pair."""
    sides = [p[0] for p in pairs], [p[1] for p in pairs]
    train_ids = tuple(data.train[side] + sides[side] for side in (0, 1))
    warmup = tuple((list(range(len(data.train[side]), len(train_ids[side]))), sides[1 - side]) for side in (0, 1))
    return dataclasses.replace(data, train=train_ids, warmup=warmup)  # type: ignore[arg-type]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--alignment", default="7c340f858201")
    p.add_argument("--src-corpus", default="1c4db14d799c", help="source style's training half (A)")
    p.add_argument("--tgt-corpus", default="de13a743e441", help="target style's training half (B)")
    p.add_argument("--src-bible", default="kjv")
    p.add_argument("--tgt-bible", default="web", help="the references: its half-A text is in no training side")
    p.add_argument("--preset", default="quick")
    p.add_argument("--dev-verses", type=int, default=500)
    p.add_argument("--pairs", type=int, default=5000)
    p.add_argument("--sup-steps", type=int, default=600)
    p.add_argument("--cont-steps", type=int, default=300)
    p.add_argument("--checkpoint-every", type=int, default=50)
    p.add_argument("--modes", nargs="+", type=AdversaryMode, default=list(AdversaryMode))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0, help="which verses are the pairs")
    p.add_argument("--copying", action=argparse.BooleanOptionalAction, default=None,
                   help="whether the generator copies words across the styles (ModelConfig.copying; default: the preset's)")
    p.add_argument("--copy-in-denoising", action=argparse.BooleanOptionalAction, default=None,
                   help="whether denoising copies too (ModelConfig.copy_in_denoising; default: the preset's)")
    p.add_argument("--out", type=Path, default=Path("data/reports/style_truth_check.json"))
    args = p.parse_args()
    clock = time.perf_counter()
    st = store()
    src_ref, tgt_ref = st.find(args.src_corpus), st.find(args.tgt_corpus)
    langs = src_ref.meta["lang"], tgt_ref.meta["lang"]
    aligned = AlignedExport.load(st.path(st.find(args.alignment)), *langs)
    src_text, tgt_text = (MonolingualCorpus.load(st.path(ref)) for ref in (src_ref, tgt_ref))
    stage = preset(args.preset).style.transfer
    base: TranslateConfig = stage.translate.model_copy(update={
        "train": stage.translate.train.model_copy(update={"threads": args.threads}),
        "model": stage.translate.model.model_copy(update={k: v for k, v in (
            ("copying", args.copying), ("copy_in_denoising", args.copy_in_denoising)) if v is not None})})
    torch.set_num_threads(args.threads)  # the evaluation outside `train` too

    # vocabularies, model and non-parallel corpora as tasks/backtranslate/train.py::_fit builds them
    train_lines, valid_lines = (src_text.train, tgt_text.train), (src_text.valid, tgt_text.valid)
    names = tuple(f"{lang} corpus {ref.sha256[:12]}" for lang, ref in zip(langs, (src_ref, tgt_ref)))
    vocabs = tuple(build_vocabulary(lang, lines, base.model.vocabulary, base.model.units == Units.SUBWORD, name)
                   for lang, lines, name in zip(langs, train_lines, names))
    tm = new_model(base, vocabs, (aligned.src, aligned.tgt), torch.device("cpu"))  # type: ignore[arg-type]
    lexicons = csls_lexicons(aligned.src, aligned.tgt, base.csls_k)
    plain = prepare_corpora(train_lines, valid_lines, tm.vocabs, lexicons, base, names)  # type: ignore[arg-type]

    verses = half_verse_pairs(default_bible_db(), args.src_bible, args.tgt_bible, "A", SplitConfig())
    dev_raw, rest = verses[:args.dev_verses], verses[args.dev_verses:]
    dev = DevSet.of(dev_raw, langs)
    rng = np.random.default_rng(args.seed)
    encoded = [tuple(vocabs[side].encode(prepare_sentence(v[side], langs[side], True)) for side in (0, 1))
               for v in (rest[i] for i in sorted(rng.permutation(len(rest))[:4 * args.pairs]))]
    pairs = [e for e in encoded if all(0 < len(s) <= base.train.max_len for s in e)][:args.pairs]
    copy = dev.copy_scores(langs)
    print(f"{len(dev_raw)} dev verses, {len(pairs)} pairs; copy: {copy}", flush=True)

    sup_config = base.model_copy(update={"train": base.train.model_copy(update={
        "steps": args.sup_steps, "word_by_word_steps": args.sup_steps, "checkpoint_every": args.sup_steps})})
    sup = train(tm, with_pairs(plain, pairs), sup_config)  # type: ignore[arg-type]
    supervised_state = {k: v.detach().clone() for k, v in tm.model.state_dict().items()}
    last = sup.history[-1]  # its one checkpoint, at the end: round-trip BLEU of these weights
    supervised = {"steps": args.sup_steps, **dev.scores(tm, langs, stage.eval_beam),
                  **{k: round(last[k], 4) for k in ("round_trip_bleu_src", "round_trip_bleu_tgt", "criterion")},
                  "train_seconds": round(sup.seconds, 1)}
    print(f"supervised: {supervised}", flush=True)

    finetune = FinetuneConfig(steps=args.cont_steps, checkpoint_every=args.checkpoint_every)
    continuations: dict[str, Any] = {}

    def report() -> dict[str, Any]:
        return {"alignment": args.alignment, "src_corpus": src_ref.sha256[:12], "tgt_corpus": tgt_ref.sha256[:12],
                "preset": args.preset, "copying": base.model.copying,
                "copy_in_denoising": base.model.copy_in_denoising, "dev_verses": len(dev_raw),
                "pairs": len(pairs), "beam": stage.eval_beam, "copy": copy, "supervised": supervised,
                "continuations": continuations, "seconds": round(time.perf_counter() - clock, 1)}

    write(report(), args.out)
    for mode in args.modes:
        tm.model.load_state_dict(supervised_state)
        curve: list[dict[str, Any]] = []

        def record(row: dict[str, Any]) -> None:
            point = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items() if k in _ROW_KEYS}
            curve.append({**point, **dev.scores(tm, langs, stage.eval_beam)})
            tm.model.train()  # decoding left it in eval mode; training goes on after this callback
            print(f"{mode.value}: {curve[-1]}", flush=True)

        result = train(tm, plain, finetune.translate_config(base, mode), on_checkpoint=record)
        selected = next(r for r in curve if r["step"] == result.best_step)
        # the stage keeps the continuation's best checkpoint; were the supervised start among them, would it win?
        continuations[mode.value] = {"curve": curve, "selected": selected,
                                     "criterion_prefers_start": supervised["criterion"] > selected["criterion"],
                                     "train_seconds": round(result.seconds, 1)}
        write(report(), args.out)  # after each mode: a stopped run keeps the finished ones
    print(json.dumps(report()))


def write(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
