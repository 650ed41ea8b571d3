"""Phones -> words: the Python beam against flashlight's lexicon decoder on one recogniser's phones.

Reads a speech run's artifacts, read-only, from the store under the data root ($UNPAIRED_DATA,
else the checkout's data/): the newest test and training segments, phonemised text and
supervised reference (`--reference features`, the stage's main one). Both decoders get the
same phone strings (the reference's argmax phones, silence removed, as the stage decodes
them), the same lexicon and the same word LM (`word_lm` of the text, the preset's LmConfig).

The lexicon decoder's weights and costs are tuned (coordinate descent on WER, beam fixed at
`--beam`) on `--tune` TRAINING utterances, never on the test ones. The reference was trained
on the training utterances, so its phones there are cleaner than on unseen audio (PER 10% vs
21%); `--holdout` instead trains a copy of the reference (same settings, seed 0) without the
last `--tune` training utterances and tunes on its phones for those. The test utterances are
then decoded by the Python beam as the quick preset ran it before (`BEFORE`), by the lexicon
decoder with the same weights, with the preset's (the defaults) and with the tuned ones, and
with `--beam-tuned` by the Python beam with those. One JSON line per result; seconds per
utterance are wall and CPU (the machine is shared: CPU is the steadier).

    UNPAIRED_DATA=/work/main/data nice .venv/bin/python scripts/decode_compare.py \
        --tune 100 --holdout --holdout-cache /tmp/holdout.pt --beam-tuned
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from components.presets import preset
from components.speech.catalog.recogniser import Recogniser
from components.speech.catalog.segments import Segments
from components.speech.catalog.text import PhonemisedText
from components.speech.config import DecodeConfig, DecodeMethod, SpeechConfig
from components.speech.decode import FlashlightDecoder, word_decoder, word_lm
from components.speech.gan import transcribe
from components.speech.metrics import phone_error_rate, word_error_rate
from components.speech.phones import PHONES, decode_ids, strip_silence, words_of
from components.speech.supervised import train_supervised
from components.store import ArtifactStore, StoredArtifact
from tasks.runtime import data_root

# the quick preset's decoder before the lexicon decoder: the Python beam, 8 wide, its weights
BEFORE = DecodeConfig(decode_method=DecodeMethod.beam, decode_beam=8, decode_lm_weight=0.3, decode_word_penalty=0.0,
                      decode_sub_cost=4.0, decode_del_cost=4.0, decode_ins_cost=4.0)
# coordinate descent: each field in turn over its values, the rest held, twice round
GRID: dict[str, Sequence[Any]] = {
    "decode_lm_weight": (0.2, 0.3, 0.5, 0.7, 1.0, 1.4, 2.0),
    "decode_word_penalty": (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0),
    "decode_sub_cost": (2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0),
    "decode_del_cost": (2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0),
    "decode_ins_cost": (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0),
}


def newest(listing: list[StoredArtifact], kind: str, **meta: Any) -> list[StoredArtifact]:
    """The newest artifact of `kind` per shard whose meta has `meta` (listing is newest first)."""
    found: dict[Any, StoredArtifact] = {}
    for a in listing:
        if a.kind == kind and all(a.meta.get(k) == v for k, v in meta.items()):
            found.setdefault(a.meta.get("shard"), a)
    if not found:
        raise SystemExit(f"no {kind} artifact with {meta} in the store")
    return [found[k] for k in sorted(found, key=str)]


def holdout_generator(seg: Segments, n: int, config: SpeechConfig, reference: str, cache: Path | None):
    """The reference's generator trained as the stage trains it (seed 0) but without the last
    `n` training utterances."""
    sup = config.supervised if reference == "features" else config.supervised.model_copy(
        update={"supervised_hidden": 0})
    if cache is not None and cache.is_file():
        trained = torch.load(cache, weights_only=False)
    else:
        trained = train_supervised(seg.x[:-n], seg.labels[:-n], len(PHONES), config.gan.generator, sup,
                                   torch.device("cpu"), seed=0)
        if cache is not None:
            torch.save(trained, cache)
    return trained.generator(config.gan.generator, torch.device("cpu"))


def timed(decode: Callable[[Sequence[str]], list[str]], phones: list[list[str]]) -> tuple[list[list[str]], float, float]:
    """Words of each utterance, wall and CPU seconds per utterance."""
    wall, cpu = time.perf_counter(), time.process_time()
    words = [decode(p) for p in phones]
    return words, (time.perf_counter() - wall) / len(phones), (time.process_time() - cpu) / len(phones)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default="features", help="which supervised reference (meta 'reference')")
    parser.add_argument("--tune", type=int, default=100, help="training utterances for tuning (0: no tuning)")
    parser.add_argument("--holdout", action="store_true",
                        help="tune on the last --tune training utterances, transcribed by a copy of the reference "
                             "trained without them (the reference's own training phones are cleaner than unseen ones)")
    parser.add_argument("--holdout-cache", type=Path, default=None, help="where to keep that copy's weights")
    parser.add_argument("--test", type=int, default=0, help="only the first N test utterances (0: all)")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--beam", type=int, default=64, help="the lexicon decoder's beam (the preset's is the Python beam's)")
    parser.add_argument("--beam-tuned", action="store_true", help="also run the Python beam with the tuned weights")
    args = parser.parse_args()
    torch.set_num_threads(1)
    store = ArtifactStore(data_root() / "store")
    listing = store.listing()
    path = lambda a: store.root / a.path
    config = preset(args.preset).speech.speech
    text = PhonemisedText.load(path(newest(listing, "speech-text")[0]))
    model = newest(listing, "speech-supervised", reference=args.reference)[0]
    generator = Recogniser.load(path(model)).trained.generator(config.gan.generator, torch.device("cpu"))

    def phones_of(split: str, limit: int) -> tuple[list[list[str]], list[list[str]], float]:
        seg = Segments.read([path(a) for a in newest(listing, "speech-segments", split=split)])
        n = limit or len(seg.x)
        chosen, g = slice(0, n), generator
        if split == "train" and args.holdout:
            chosen = slice(len(seg.x) - n, len(seg.x))
            g = holdout_generator(seg, n, config, args.reference, args.holdout_cache)
        hyps = [strip_silence(decode_ids(h)) for h in transcribe(g, seg.x[chosen], torch.device("cpu"))]
        return hyps, [words_of(t) for t in seg.texts[chosen]], phone_error_rate(seg.phones[chosen], hyps)

    lm = word_lm(text.words, config.lm)
    start = time.perf_counter()
    fast = FlashlightDecoder(text.lexicon, lm, BEFORE.model_copy(update={"decode_method": DecodeMethod.lexicon,
                                                                         "decode_beam": args.beam}))
    print(json.dumps({"model": model.sha256[:12], "origin": model.meta.get("origin"),
                      "lexicon_words": len(fast.words), "build_s": round(time.perf_counter() - start, 2)}), flush=True)

    tuned = fast.cfg
    if args.tune:
        train, train_refs, train_per = phones_of("train", args.tune)
        wer = lambda cfg: word_error_rate(train_refs, timed(fast.reconfigured(cfg), train)[0])
        best = wer(tuned)
        print(json.dumps({"tune_utterances": len(train), "train_per": round(train_per, 4),
                          "start_wer": round(best, 4)}), flush=True)
        for _ in range(2):
            for field, values in GRID.items():
                for v in values:
                    cfg = tuned.model_copy(update={field: v})
                    if v == getattr(tuned, field):
                        continue
                    w = wer(cfg)
                    if w < best - 1e-9:
                        best, tuned = w, cfg
                print(json.dumps({"tuned": field, "value": getattr(tuned, field), "train_wer": round(best, 4)}),
                      flush=True)
        print(json.dumps({"tuned_config": tuned.model_dump(mode="json"), "train_wer": round(best, 4)}), flush=True)

    test, refs, per = phones_of("test", args.test)
    print(json.dumps({"test_utterances": len(test), "test_per": round(per, 4)}), flush=True)
    results = {}
    runs = [("beam, before", BEFORE), ("lexicon, weights as before", fast.cfg),
            (f"lexicon, {args.preset} preset", config.decode.model_copy(update={"decode_method": DecodeMethod.lexicon}))]
    if args.tune:
        runs.append(("lexicon, tuned here", tuned))
    if args.beam_tuned:
        runs.append(("beam, weights tuned here", tuned.model_copy(update={
            "decode_method": DecodeMethod.beam, "decode_beam": BEFORE.decode_beam})))
    for name, cfg in runs:
        decode = word_decoder(text.lexicon, lm, cfg) if cfg.decode_method is DecodeMethod.beam \
            else fast.reconfigured(cfg)
        words, wall, cpu = timed(decode, test)
        results[name] = wall, cpu
        print(json.dumps({"decoder": name, "wer": round(word_error_rate(refs, words), 4),
                          "s_per_utt_wall": round(wall, 5), "s_per_utt_cpu": round(cpu, 5),
                          "speedup_vs_beam_wall": round(results["beam, before"][0] / wall, 1),
                          "speedup_vs_beam_cpu": round(results["beam, before"][1] / cpu, 1),
                          "config": cfg.model_dump(mode="json")}), flush=True)


if __name__ == "__main__":
    main()
