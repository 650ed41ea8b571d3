"""Write a Wikipedia-sized synthetic pair of `.vec` files with a known answer, for `unpaired align`.

Source: `words` random Gaussian vectors. Target: the same vectors under a random rotation plus
Gaussian noise, under other names, rows shuffled within blocks of `block` ranks (frequency order
kept only roughly, as between two real languages). Dictionary: `pairs` true pairs among the most
frequent `dict_rank` words, in 'src<TAB>tgt' form (the stage splits it into seed and test parts).

    .venv/bin/python scripts/synthetic_pair.py --out /tmp/synth
    /usr/bin/time -v .venv/bin/unpaired align --pair sa-sb --src-vectors /tmp/synth/sa.vec \
        --tgt-vectors /tmp/synth/sb.vec --dictionary /tmp/synth/dictionary.tsv
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def write_vec(path: Path, words: list[str], vectors: np.ndarray) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n")
        for start in range(0, len(words), 10_000):
            block = vectors[start:start + 10_000]
            text = np.char.mod("%.5f", block)
            f.writelines(w + " " + " ".join(row) + "\n" for w, row in zip(words[start:start + 10_000], text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--words", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--noise", type=float, default=0.1, help="noise std relative to the vectors' std")
    parser.add_argument("--block", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--dict-rank", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    src = rng.standard_normal((args.words, args.dim), dtype=np.float32)
    rotation, _ = np.linalg.qr(rng.standard_normal((args.dim, args.dim)))
    tgt = src @ rotation.astype(np.float32) + args.noise * rng.standard_normal(src.shape, dtype=np.float32)
    order = np.concatenate([start + rng.permutation(min(args.block, args.words - start))
                            for start in range(0, args.words, args.block)])  # target row r holds source word order[r]
    src_words = [f"a{i}" for i in range(args.words)]
    tgt_names = rng.permutation(args.words)
    tgt_words = [f"b{tgt_names[i]}" for i in order]
    write_vec(args.out / "sa.vec", src_words, src)
    write_vec(args.out / "sb.vec", tgt_words, tgt[order])
    chosen = rng.choice(min(args.dict_rank, args.words), size=min(args.pairs, args.words), replace=False)
    (args.out / "dictionary.tsv").write_text("".join(f"a{i}\tb{tgt_names[i]}\n" for i in sorted(chosen)),
                                             encoding="utf-8")
    print(f"wrote {args.out}/sa.vec, sb.vec ({args.words} x {args.dim}) and dictionary.tsv ({len(chosen)} pairs)")


if __name__ == "__main__":
    main()
