"""Do the unsupervised mapping objectives hold the right answer on these embeddings?

Each objective is started at the supervised solution (Procrustes + refinement on the fit
share of the seed dictionary) and trained as the stage would; the dev share of the seed
dictionary (never the test part) says whether the map stayed. Then the same objective from
its usual start, for comparison. Also: the unsupervised criterion of the supervised map
against the runs', and the Gromov–Wasserstein loss of the supervised coupling against the
coupling GW finds by itself (if GW prefers its own, the objective does not hold the truth).

    .venv/bin/python scripts/alignment_truth_check.py --pair en-fr [--adversarial-dim 50] --out check.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from components import presets
from components.align.adversarial import adversarial_training
from components.align.config import AdversarialConfig, GromovConfig, Retrieval
from components.align.criterion import selection_criterion
from components.align.evaluate import csls_p1
from components.align.gromov import coupling_dictionary, gromov_coupling, gromov_loss
from components.align.pipeline import align_supervised, dictionary_indices, prepare_spaces, seed_map
from components.align.normalize import principal_components
from components.align.refine import induce_dictionary, refine
from components.align.retrieval import nearest_both_ways
from components.align.state import LinearMaps
from components.align.vecmap import vecmap_self_learning
from components.dictionary import dev_split, load_part
from components.embeddings import load_vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", default="en-fr")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--adversarial", default='{"epoch_size": 50000, "n_epochs": 3, "dis_hid_dim": 512}',
                        help="AdversarialConfig overrides (JSON)")
    parser.add_argument("--gromov", default='{"words": 2000, "max_iterations": 200}',
                        help="GromovConfig overrides (JSON)")
    parser.add_argument("--adversarial-dim", type=int, default=None,
                        help="train the adversary on each side's leading principal components (as AlignConfig.init_dim)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["adversarial", "gromov", "vecmap"])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from flows.corpus import prepare_corpus
    from tasks.runtime import configure
    from tasks.store import store

    configure()
    settings = presets.preset(args.preset)
    corpus = prepare_corpus(settings.corpus(args.pair))
    st = store()
    src, tgt = (load_vectors(st.path(ref)) for ref in (corpus.src_vectors, corpus.tgt_vectors))
    fit, dev = dev_split(load_part(st.path(corpus.dictionary), "seed"))
    config = settings.align.align
    device = torch.device("cpu")
    x, z = prepare_spaces(src, tgt, config, device)
    report: dict[str, object] = {"fit_pairs": len(fit), "dev_pairs": len(dev)}

    def dev_p1(maps: LinearMaps, a: torch.Tensor = x, b: torch.Tensor = z) -> float:
        xm, zm = maps.apply(a, b)
        return round(100 * csls_p1(xm, zm, src.words, tgt.words, dev, config.retrieval, "dev pairs"), 2)

    def criterion(maps: LinearMaps) -> float:
        return round(selection_criterion(*maps.apply(x, z), config.criterion, config.retrieval), 4)

    def refined(maps: LinearMaps) -> LinearMaps:
        return refine(x, z, maps, config.refine, config.whiten_reweight, config.criterion, config.retrieval)[0]

    supervised = align_supervised(src, tgt, fit, config, device).maps
    report["supervised"] = {"dev_p1": dev_p1(supervised), "criterion": criterion(supervised)}
    print(json.dumps(report), flush=True)

    if "adversarial" not in args.skip:
        adv = AdversarialConfig(**{**AdversarialConfig().model_dump(), **json.loads(args.adversarial)})
        rows = {}
        xa, za, truth = x, z, supervised
        if args.adversarial_dim:  # the supervised solution of the reduced spaces is the truth there
            xa, za = (principal_components(v, args.adversarial_dim) for v in (x, z))
            truth = seed_map(xa, za, dictionary_indices(fit, src, tgt), config)[0]
            rows["supervised_in_reduced_space"] = {"dev_p1": dev_p1(truth, xa, za)}

        def seeded_full(maps: LinearMaps) -> LinearMaps:  # the reduced map's dictionary seeds the full spaces
            if not args.adversarial_dim:
                return maps
            induced = induce_dictionary(*maps.apply(xa, za), config.refine.retrieval, config.refine.direction,
                                        config.refine.max_rank, config.retrieval)
            return seed_map(x, z, induced, config)[0]

        for start_name, init in (("from_supervised", truth.w_src @ truth.w_tgt.T), ("from_identity", None)):
            started, curve = time.monotonic(), []
            maps, _ = adversarial_training(xa, za, adv, config.criterion, config.retrieval, 0,
                                           lambda p: curve.append((p.point.criterion, dev_p1(p.maps, xa, za))),
                                           init=init)
            rows[start_name] = {"epochs_criterion_dev_p1": curve, "best_dev_p1": dev_p1(maps, xa, za),
                                "refined_dev_p1": dev_p1(refined(seeded_full(maps))),
                                "seconds": round(time.monotonic() - started)}
            print(json.dumps({start_name: rows[start_name]}), flush=True)
        report["adversarial"] = {"config": json.loads(args.adversarial), "dim": args.adversarial_dim, **rows}

    if "gromov" not in args.skip:
        gw = GromovConfig(**json.loads(args.gromov))
        n = min(gw.words, len(src.words), len(tgt.words))
        xm, zm = supervised.apply(x, z)
        links = nearest_both_ways(xm[:n], zm[:n], Retrieval.CSLS, config.retrieval)
        truth = np.zeros((n, n))
        truth[np.arange(n), links.s2t.numpy()] = 1.0 / n  # supervised map's matches as a coupling
        rows = {"words": n, "supervised_coupling_loss": gromov_loss(x, z, truth, gw)}
        for start_name, start in (("from_supervised", truth), ("from_uniform", None)):
            started = time.monotonic()
            coupling, loss = gromov_coupling(x, z, gw, start=start)
            s_idx, t_idx = coupling_dictionary(coupling, device)
            agree = float((links.s2t[s_idx] == t_idx).float().mean())
            maps, _ = seed_map(x, z, (s_idx, t_idx), config)
            rows[start_name] = {"gw_loss": loss, "exact_loss": gromov_loss(x, z, coupling, gw),
                                "dictionary": int(s_idx.numel()), "agrees_with_supervised": round(agree, 3),
                                "dev_p1": dev_p1(maps), "refined_dev_p1": dev_p1(refined(maps)),
                                "seconds": round(time.monotonic() - started)}
            print(json.dumps({start_name: rows[start_name]}), flush=True)
        report["gromov"] = {"config": json.loads(args.gromov), **rows}

    if "vecmap" not in args.skip:
        s_idx, t_idx = dictionary_indices(fit, src, tgt)
        started = time.monotonic()
        maps, _ = vecmap_self_learning(x, z, config.vecmap, config.whiten_reweight, config.normalization,
                                       config.retrieval, 0, init_dictionary=(s_idx, t_idx))
        report["vecmap_self_learning_from_fit_dictionary"] = {
            "dev_p1": dev_p1(maps), "refined_dev_p1": dev_p1(refined(maps)), "seconds": round(time.monotonic() - started)}
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
