"""Check unsupervised selection criteria against P@1 on the seed (dev) dictionary.

The seed part of the dictionary is the supervised reference's training data; the test part
is not read here. For each stored map (an align run's directory: src/tgt .npy + .words) it
computes several criteria and CSLS P@1 s->t on the seed pairs, then the Spearman rank
correlation of each criterion with that P@1 over the maps. Pass only maps that never saw
the seed part (not the `reference-procrustes_seed*` runs): on those, seed P@1 is training fit.

    .venv/bin/python scripts/criterion_check.py --dictionary DIR_WITH_seed.tsv MAP_DIR...
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from components.align.catalog import AlignmentRun
from components.align.config import CriterionConfig, CriterionKind, RetrievalConfig
from components.align.criterion import criterion_from_links
from components.align.evaluate import csls_p1
from components.align.retrieval import nearest_both_ways
from components.dictionary import load_part
from components.stats import spearman

CRITERIA = {f"{kind.value}@{n}": CriterionConfig(kind=kind, n_most_frequent=n)
            for kind in CriterionKind for n in (1000, 2000, 5000, 10000)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dictionary", type=Path, required=True, help="directory holding seed.tsv")
    parser.add_argument("maps", type=Path, nargs="+")
    args = parser.parse_args()
    seed_pairs = load_part(args.dictionary, "seed")
    retrieval = RetrievalConfig()
    rows = []
    for path in args.maps:
        run = AlignmentRun.load(path)
        src, tgt = run.src, run.tgt
        x, z = torch.from_numpy(src.vectors), torch.from_numpy(tgt.vectors)
        row = {"map": path.name, "dev_p1_csls_s2t": csls_p1(x, z, src.words, tgt.words, seed_pairs, retrieval,
                                                            "seed dictionary")}
        # one neighbour search serves every variant (they differ in kind and cutoff only)
        links = nearest_both_ways(x, z, CriterionConfig().retrieval, retrieval)
        row.update({name: criterion_from_links(links, cfg) for name, cfg in CRITERIA.items()})
        rows.append(row)
        print(json.dumps(row))
    dev_p1 = [r["dev_p1_csls_s2t"] for r in rows]
    ranks = {name: spearman([r[name] for r in rows], dev_p1) for name in CRITERIA}
    print(json.dumps({"maps": len(rows), "spearman_with_dev_p1": ranks}, indent=1))


if __name__ == "__main__":
    main()
