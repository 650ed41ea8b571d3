"""Check unsupervised selection criteria against P@1 on the seed (dev) dictionary.

The seed part of the dictionary is the supervised reference's training data; the test part
is not read here. For each stored map (a directory with src.npy/src.words/tgt.npy/tgt.words,
as written by the align stage) it computes several criteria and CSLS P@1 s->t on the seed
pairs, then the Spearman rank correlation of each criterion with that P@1 over the maps.

    .venv/bin/python scripts/criterion_check.py --dictionary DIR_WITH_seed.tsv MAP_DIR...
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from components.align.config import CriterionConfig, CriterionKind, EvaluationConfig, RetrievalConfig
from components.align.criterion import selection_criterion
from components.align.evaluate import evaluate_translation
from components.dictionary import read_pairs
from components.stats import spearman

CRITERIA = {f"{kind.value}@{n}": CriterionConfig(kind=kind, n_most_frequent=n)
            for kind in CriterionKind for n in (1000, 2000, 5000, 10000)}


def load_side(path: Path, side: str) -> tuple[list[str], torch.Tensor]:
    words = (path / f"{side}.words").read_text(encoding="utf-8").splitlines()
    return words, torch.from_numpy(np.load(path / f"{side}.npy"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dictionary", type=Path, required=True, help="directory holding seed.tsv")
    parser.add_argument("maps", type=Path, nargs="+")
    args = parser.parse_args()
    seed_pairs = read_pairs(args.dictionary / "seed.tsv")
    retrieval = RetrievalConfig()
    rows = []
    for path in args.maps:
        src_words, src = load_side(path, "src")
        tgt_words, tgt = load_side(path, "tgt")
        dev = evaluate_translation(src, tgt, src_words, tgt_words, seed_pairs, EvaluationConfig(), retrieval,
                                   "seed dictionary")
        row = {"map": path.name, "dev_p1_csls_s2t": dev.metrics["p1_csls_s2t"]}
        row.update({name: selection_criterion(src, tgt, cfg, retrieval) for name, cfg in CRITERIA.items()})
        rows.append(row)
        print(json.dumps(row))
    dev_p1 = [r["dev_p1_csls_s2t"] for r in rows]
    ranks = {name: spearman([r[name] for r in rows], dev_p1) for name in CRITERIA}
    print(json.dumps({"maps": len(rows), "spearman_with_dev_p1": ranks}, indent=1))


if __name__ == "__main__":
    main()
