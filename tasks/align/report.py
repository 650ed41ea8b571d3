"""Mapping tasks: the training plot and the report in the UI."""
from __future__ import annotations

from pathlib import Path

from prefect import task

from components.align.catalog import AlignmentRun
from components.plots import pyplot, save_figure
from components.report import StageReport
from components.store import ArtifactRef
from tasks.publish import publish_markdown, publish_table
from tasks.store import store


def run_name(run: ArtifactRef) -> str:
    """Row name of a sweep run, e.g. 'vecmap seed 2'."""
    return f"{run.meta['method']} seed {run.meta['seed']}"


@task(name="plot-alignment")
def plot_alignment(runs: list[ArtifactRef], selected: ArtifactRef, out: Path) -> Path:
    """Criterion and (monitored) test P@1 over training, one line per run, as a PNG."""
    fig, (ax_c, ax_p) = pyplot().subplots(1, 2, figsize=(11, 4))
    for run in runs:
        points = [p for p in AlignmentRun.load(store().path(run)).history if p["criterion"] is not None]
        label = run_name(run) + (" (selected)" if run == selected else "")
        ax_c.plot([p["criterion"] for p in points], label=label, lw=2.5 if run == selected else 1)
        ax_p.plot([100 * p["test_p1_csls_s2t"] for p in points], label=label, lw=2.5 if run == selected else 1)
    ax_c.set(title="unsupervised criterion (selects)", xlabel="measurement", ylabel="criterion")
    ax_p.set(title="test P@1 CSLS s->t (monitor only)", xlabel="measurement", ylabel="P@1 (%)")
    ax_p.legend(fontsize=7)
    return save_figure(fig, out)


@task(name="publish-alignment-report")
def publish_alignment_report(report: StageReport) -> None:
    """Every row (sweep and references) as a table, and why the winner won, for the UI."""
    publish_table(report.key, report.table(), description=report.title)
    publish_markdown(f"{report.key}-summary", report.markdown())
