"""Stage 2: map the two embedding spaces into one without a dictionary, and pick the map."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.futures import PrefectFuture, as_completed
from pydantic import BaseModel

from components.align.catalog import vector_files
from components.align.config import AlignStageConfig, InitMethod
from components.align.criterion import criterion_of
from components.corpus import DictionaryConfig
from components.errors import InputError
from components.report import Column, Criterion, Row, RowKind, StageReport
from components.stats import spearman
from components.store import ArtifactRef, hash_path
from flows.runner import ComputeThreadPoolTaskRunner
from tasks.align.evaluate import evaluate_alignment, evaluate_copy_row
from tasks.align.export import export_alignment
from tasks.align.report import plot_alignment, publish_alignment_report, run_name
from tasks.align.run import align_reference, align_run
from tasks.corpus.inputs import import_dictionary, import_vectors
from tasks.runtime import data_root
from tasks.store import store

REPORT_KEYS = ("p1_csls_s2t", "p1_csls_t2s", "p5_csls_s2t", "p10_csls_s2t", "p1_nn_s2t", "p1_nn_t2s")
HEADERS = {"p1_csls_s2t": "CSLS s->t", "p1_csls_t2s": "CSLS t->s", "p5_csls_s2t": "P@5 CSLS s->t",
           "p10_csls_s2t": "P@10 CSLS s->t", "p1_nn_s2t": "NN s->t", "p1_nn_t2s": "NN t->s",
           "dev_p1_csls_s2t": "seed-part CSLS s->t"}  # P@1 in % unless named
TERMINAL = ("p1_csls_s2t", "p1_csls_t2s", "p1_nn_s2t")
# Reference rows: what each is (their names are the benchmark report's keys too).
REFERENCES = {"procrustes_seed": RowKind.SUPERVISED, "procrustes_seed_raw": RowKind.SUPERVISED,
              "identical_strings": RowKind.REFERENCE}
COPY = "copy"


class AlignStageResult(BaseModel):
    pair: str
    selected: ArtifactRef            # the winning run (mapped spaces, history)
    exported: ArtifactRef            # aligned .vec files and lexicon.tsv
    rows: list[Row]                  # sweep runs (UNSUPERVISED) and the reference rows
    criterion: Criterion             # what selected the map
    spearman_criterion_p1: float | None      # over the sweep, against test P@1 (reported, never used)
    spearman_criterion_dev_p1: float | None  # against P@1 on the seed part (the check a user can run)
    plot: str
    seconds: float
    skipped: list[str] = []          # runs that could not start on this pair, e.g. 'identical seed 0'
    # the criterion's choice among the runs that assume nothing about spelling (no identical seed)
    fully_unsupervised: str | None = None
    name: str | None = None          # the report's key suffix (default: the pair)

    def row(self, name: str) -> Row | None:
        return next((r for r in self.rows if r.name == name), None)

    def selected_row(self) -> Row:
        return next(r for r in self.rows if r.selected)

    def report(self) -> StageReport:
        sel = self.selected_row()
        best = self.criterion.superlative
        notes = [f"Selected **{sel.name}**: {best} unsupervised criterion "
                 f"({sel.criterion:.4f}; {self.criterion.name} after refinement, no dictionary) among "
                 f"{len([r for r in self.rows if r.kind is RowKind.UNSUPERVISED])} runs. Spearman rank correlation "
                 f"of the criterion over the sweep with P@1 on the seed dictionary (which no unsupervised run "
                 f"sees): {_round(self.spearman_criterion_dev_p1)}; with test P@1: "
                 f"{_round(self.spearman_criterion_p1)}.",
                 f"Aligned vectors and lexicon: `{store().path(self.exported)}`"]
        if self.fully_unsupervised is not None and self.fully_unsupervised != sel.name:
            fully = self.row(self.fully_unsupervised)
            notes.insert(1, f"Best run that assumes nothing about spelling (no identical-string seed), by the "
                            f"same criterion: **{fully.name}** ({fully.criterion:.4f}).")
        if self.skipped:
            notes.insert(1, f"Skipped: {', '.join(self.skipped)}; no word of the two vocabularies is spelled "
                            f"alike often enough to seed them (e.g. two scripts). The criterion chose among the "
                            f"other runs.")
        if any(r.name.startswith(InitMethod.IDENTICAL.value) for r in self.rows if r.kind is RowKind.UNSUPERVISED):
            notes.insert(1, "Runs named `identical` start from words spelled alike in both languages: no "
                            "dictionary, but a shared-script assumption.")
        columns = [Column(key=k, header=HEADERS[k], percent=True, digits=1, terminal=k in TERMINAL)
                   for k in (*REPORT_KEYS, "dev_p1_csls_s2t")]
        name = self.name or self.pair
        return StageReport(key=f"alignment-{name}", title=f"Alignment {name}", columns=columns,
                           rows=self.rows, notes=notes, plots={"training": self.plot})


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@flow(name="align", log_prints=True, task_runner=ComputeThreadPoolTaskRunner())
def align_embeddings(src_vectors: ArtifactRef, tgt_vectors: ArtifactRef, dictionary: ArtifactRef,
                     config: AlignStageConfig = AlignStageConfig(), refresh: bool = False,
                     name: str | None = None) -> AlignStageResult:
    """Sweep (method, seed) runs, select by the unsupervised criterion, export, report references.
    `name` keys the report and its plot (default: the language pair)."""
    start = time.perf_counter()
    opts = {"refresh_cache": refresh}
    pair = f"{src_vectors.meta['lang']}-{tgt_vectors.meta['lang']}"
    criterion = criterion_of(config.align.criterion)
    plan = config.plan()
    # At most `parallel_runs` alignments in flight (memory grows with them): the next one is
    # submitted when any running one finishes.
    in_flight: list[PrefectFuture] = []

    def bounded(task: Any, *args: Any) -> PrefectFuture:
        if len(in_flight) >= config.parallel_runs:
            in_flight.remove(next(as_completed(in_flight)))
        in_flight.append(task.with_options(**opts).submit(*args))
        return in_flight[-1]

    runs = [bounded(align_run, src_vectors, tgt_vectors, dictionary, config.align, m, s, config.device)
            for m, s in plan]
    refs = {}
    if config.references:
        refs = {which: bounded(align_reference, src_vectors, tgt_vectors, dictionary, config.align, which,
                               config.device) for which in REFERENCES}
    finished = [f.result() for f in runs]
    run_refs = [r for r in finished if r is not None]  # None: could not start on this pair
    skipped = [f"{m.value} seed {s}" for (m, s), r in zip(plan, finished) if r is None]
    if not run_refs:
        raise InputError(pair, "no alignment run could start (see the skipped runs in the log)")
    selected = criterion.best(run_refs, lambda r: r.meta["criterion"])  # unsupervised: no test data involved
    spelling_free = [r for r in run_refs if r.meta["method"] != InitMethod.IDENTICAL.value]
    fully = criterion.best(spelling_free, lambda r: r.meta["criterion"]) if spelling_free else None
    exported = export_alignment.submit(selected, config.align, *pair.split("-"))
    evaluations = {r: evaluate_alignment.submit(r, dictionary, config.align, dev=True) for r in run_refs}
    rows = [Row(name=run_name(r), kind=RowKind.UNSUPERVISED, metrics=ev.result(), criterion=r.meta["criterion"],
                selected=r == selected) for r, ev in evaluations.items()]
    if config.references:
        for which, fut in refs.items():
            if (ref := fut.result()) is not None:
                metrics = evaluate_alignment.submit(ref, dictionary, config.align).result()
                rows.append(Row(name=which, kind=REFERENCES[which], metrics=metrics, criterion=ref.meta["criterion"]))
        copy = evaluate_copy_row.submit(src_vectors, tgt_vectors, dictionary, config.align).result()
        rows.append(Row(name=COPY, kind=RowKind.BASELINE, metrics=copy))
    sweep = [r for r in rows if r.kind is RowKind.UNSUPERVISED]
    criteria = [r.criterion for r in sweep]
    plot = plot_alignment(run_refs, selected, data_root() / "reports" / f"alignment-{name or pair}.png")
    result = AlignStageResult(
        pair=pair, selected=selected, exported=exported.result(), rows=rows, criterion=criterion,
        spearman_criterion_p1=spearman(criteria, [r.metrics["p1_csls_s2t"] for r in sweep]),
        spearman_criterion_dev_p1=spearman(criteria, [r.metrics["dev_p1_csls_s2t"] for r in sweep]),
        plot=str(plot), seconds=time.perf_counter() - start, skipped=skipped,
        fully_unsupervised=None if fully is None else run_name(fully), name=name)
    report = result.report()
    publish_alignment_report(report)
    print(report.markdown(embed_plots=False))  # the UI's copy embeds the plots
    return result


@flow(name="align-files", log_prints=True)
def align_files(src_vectors: Path, tgt_vectors: Path, dictionary: Path, src_lang: str, tgt_lang: str,
                config: AlignStageConfig = AlignStageConfig(), refresh: bool = False) -> AlignStageResult:
    """The mapping stage alone on a user's `.vec` files and evaluation dictionary."""
    opts = {"refresh_cache": refresh}
    src = import_vectors.with_options(**opts).submit(src_vectors, src_lang, hash_path(src_vectors))
    tgt = import_vectors.with_options(**opts).submit(tgt_vectors, tgt_lang, hash_path(tgt_vectors))
    pairs = import_dictionary.with_options(**opts).submit(dictionary, src, tgt, DictionaryConfig(),
                                                          hash_path(dictionary))
    return align_embeddings(src.result(), tgt.result(), pairs.result(), config, refresh=refresh)


def alignment_section(result: AlignStageResult, src_lang: str, tgt_lang: str) -> dict[str, Any]:
    """DESIGN.md section 5 keys: the selected unsupervised run, the reference rows, the sweep."""
    def metrics(row: Row) -> dict[str, Any]:
        m = row.metrics
        out = {k: m[k] for k in REPORT_KEYS}
        out["p1_by_bucket"] = m.get("p1_by_bucket", {})
        out["without_identical"] = m.get("without_identical")
        for k in ("criterion", "seconds"):
            if m.get(k) is not None:
                out[k] = m[k]
        return out

    sel = result.selected.meta
    exported = store().path(result.exported)
    src_file, tgt_file = vector_files(src_lang, tgt_lang)
    section: dict[str, Any] = {
        "unsupervised": {**metrics(result.selected_row()), "method": sel["method"], "seed": sel["seed"],
                         "vectors": {"src": str(exported / src_file), "tgt": str(exported / tgt_file)},
                         "lexicon": str(exported / "lexicon.tsv")},
        "fully_unsupervised": None if result.fully_unsupervised is None else
        {**metrics(result.row(result.fully_unsupervised)), "run": result.fully_unsupervised},
        "selection": f"{'max' if result.criterion.higher_is_better else 'min'} unsupervised criterion "
                     f"({result.criterion.name}, after refinement)",
        "spearman_criterion_p1": result.spearman_criterion_p1,
        "spearman_criterion_dev_p1": result.spearman_criterion_dev_p1,
        "sweep": {r.name: {"p1_csls_s2t": r.metrics["p1_csls_s2t"], "dev_p1_csls_s2t": r.metrics["dev_p1_csls_s2t"],
                           "criterion": r.criterion}
                  for r in result.rows if r.kind is RowKind.UNSUPERVISED},
        "plot": result.plot,
        "seconds": round(result.seconds, 1),
    }
    for r in result.rows:
        if r.kind is not RowKind.UNSUPERVISED:
            section[r.name] = metrics(r)
    return section
