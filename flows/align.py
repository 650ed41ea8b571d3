"""Stage 2: map the two embedding spaces into one without a dictionary, and pick the map."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow
from pydantic import BaseModel

from components.align.config import AlignStageConfig, CriterionConfig, CriterionKind, InitMethod
from components.errors import InputError
from components.stats import spearman
from components.store import ArtifactRef
from tasks.align import (align_reference, align_run, evaluate_alignment, evaluate_copy_row, export_alignment,
                         plot_alignment, publish_alignment_report, run_name)
from tasks.runtime import data_root
from tasks.store import store

REPORT_KEYS = ("p1_csls_s2t", "p1_csls_t2s", "p5_csls_s2t", "p10_csls_s2t", "p1_nn_s2t", "p1_nn_t2s")


class AlignStageResult(BaseModel):
    selected: ArtifactRef            # the winning run (mapped spaces, history)
    exported: ArtifactRef            # aligned .vec files and lexicon.tsv
    rows: dict[str, dict[str, Any]]  # run or reference name -> metrics
    spearman_criterion_p1: float | None      # over the sweep, against test P@1 (reported, never used)
    spearman_criterion_dev_p1: float | None  # against P@1 on the seed part (the check a user can run)
    criterion_name: str                      # what selected the map, for reports and champion records
    plot: str
    seconds: float


def criterion_name(config: CriterionConfig) -> str:
    """How the report describes the selection criterion."""
    if config.kind is CriterionKind.MUTUAL_NN:
        return f"share of the {config.n_most_frequent} most frequent source words that translate back to themselves"
    return f"MUSE mean CSLS cosine of the {config.n_most_frequent} most frequent source words"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@flow(name="align", log_prints=True)
def align_embeddings(src_vectors: ArtifactRef, tgt_vectors: ArtifactRef, dictionary: ArtifactRef,
                     config: AlignStageConfig = AlignStageConfig(), refresh: bool = False) -> AlignStageResult:
    """Sweep (method, seed) runs, select by the unsupervised criterion, export, report references."""
    start = time.perf_counter()
    opts = {"refresh_cache": refresh}
    pair = f"{src_vectors.meta['lang']}-{tgt_vectors.meta['lang']}"
    runs = [align_run.with_options(**opts).submit(src_vectors, tgt_vectors, dictionary, config.align, m, s,
                                                  config.device)
            for m in config.methods for s in config.seeds]
    refs = {}
    if config.references:
        refs = {which: align_reference.with_options(**opts).submit(src_vectors, tgt_vectors, dictionary,
                                                                     config.align, which, config.device)
                for which in ("procrustes_seed", "procrustes_seed_raw", "identical_strings")}
    run_refs = [r.result() for r in runs]
    run_refs = [r for r in run_refs if r is not None]  # methods that could not start on this pair
    if not run_refs:
        raise InputError(pair, "no alignment run could start (see the skipped runs in the log)")
    selected = max(run_refs, key=lambda r: r.meta["criterion"])  # unsupervised: no test data involved
    exported = export_alignment.submit(selected, config.align, *pair.split("-"))
    evaluations = {r: evaluate_alignment.submit(r, dictionary, config.align, dev=True) for r in run_refs}
    rows: dict[str, dict[str, Any]] = {}
    for r, ev in evaluations.items():
        rows[run_name(r)] = ev.result()
    if config.references:
        for which, fut in refs.items():
            if fut.result() is not None:
                rows[which] = evaluate_alignment.submit(fut.result(), dictionary, config.align).result()
        rows["copy"] = evaluate_copy_row.submit(src_vectors, tgt_vectors, dictionary, config.align).result()
    criteria = [r.meta["criterion"] for r in run_refs]
    rho = spearman(criteria, [rows[run_name(r)]["p1_csls_s2t"] for r in run_refs])
    rho_dev = spearman(criteria, [rows[run_name(r)]["dev_p1_csls_s2t"] for r in run_refs])
    plot = plot_alignment(run_refs, selected, data_root() / "reports" / f"alignment-{pair}.png")
    name = run_name(selected)
    criterion = criterion_name(config.align.criterion)
    table = [{"run": k, **{m: round(100 * v[m], 1) for m in REPORT_KEYS},
              "criterion": round(v["criterion"], 4) if v.get("criterion") is not None else "",
              # only the unsupervised runs have it: the references trained on the seed part
              "dev_p1_csls_s2t": round(100 * v["dev_p1_csls_s2t"], 1) if "dev_p1_csls_s2t" in v else "",
              "selected": "yes" if k == name else ""} for k, v in rows.items()]
    summary = (f"# Alignment {pair}\n\nSelected **{name}**: highest unsupervised criterion "
               f"({selected.meta['criterion']:.4f}; {criterion} after refinement, "
               f"no dictionary) "
               f"among {len(run_refs)} runs. Spearman rank correlation of the criterion over the sweep with "
               f"P@1 on the seed dictionary (which no unsupervised run sees): {_round(rho_dev)}; "
               f"with test P@1: {_round(rho)}.\n\n"
               + ("Runs named `identical` start from words spelled alike in both languages: no dictionary, "
                  "but a shared-script assumption.\n\n" if InitMethod.IDENTICAL in config.methods else "")
               + f"Training plot: `{plot}`\n"
               f"Aligned vectors and lexicon: `{store().path(exported.result())}`\n")
    publish_alignment_report(pair, table, summary)
    print(summary)
    return AlignStageResult(selected=selected, exported=exported.result(), rows=rows,
                            spearman_criterion_p1=rho, spearman_criterion_dev_p1=rho_dev, criterion_name=criterion,
                            plot=str(plot), seconds=time.perf_counter() - start)
