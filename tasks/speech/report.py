"""Speech tasks: the training and confusion plots, and the report in the UI."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from prefect import task

from components.plots import pyplot, save_figure
from components.report import StageReport
from components.speech.catalog.recogniser import Recogniser
from components.speech.phones import PHONES, SILENCE_ID
from components.store import ArtifactRef
from tasks.publish import publish_markdown, publish_table
from tasks.store import store


@task(name="plot-speech-training")
def plot_training(runs: list[ArtifactRef], selected: ArtifactRef, out: Path) -> Path:
    """Criterion (selects) and test PER (monitor only) over GAN training, one line per seed."""
    plt = pyplot()
    fig, (ax_c, ax_p) = plt.subplots(1, 2, figsize=(11, 4))
    for run in runs:
        hist = [h for h in Recogniser.history(store().path(run)) if "score" in h]
        label = run.meta["origin"] + (" (selected)" if run == selected else "")
        lw = 2.5 if run == selected else 1
        ax_c.plot([h["step"] for h in hist], [h["score"] for h in hist], label=label, lw=lw)
        pts = [(h["step"], 100 * h["test_per"]) for h in hist if h.get("test_per") is not None]
        if pts:
            ax_p.plot(*zip(*pts), label=label, lw=lw)
    ax_c.set(title="unsupervised criterion (selects)", xlabel="step", ylabel="phone-LM ppl / usage^2")
    ax_c.set_yscale("log")
    ax_p.set(title="test PER (monitor only)", xlabel="step", ylabel="PER (%)")
    ax_c.legend(fontsize=7)
    return save_figure(fig, out)


@task(name="plot-phone-confusion")
def plot_confusion(confusion: list[list[int]], title: str, out: Path) -> Path:
    """Row-normalised confusion of reference (rows) and recognised (columns) phones, with a
    'none' row/column for insertions and deletions, as a PNG."""
    plt = pyplot()
    labels = [p for p in PHONES if p != PHONES[SILENCE_ID]] + ["none"]
    c = torch.tensor(confusion, dtype=torch.float)
    c = c / c.sum(1, keepdim=True).clamp_min(1)
    fig, ax = plt.subplots(figsize=(9, 8))
    ax.imshow(c.numpy(), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set(xlabel="recognised", ylabel="reference", title=title)
    return save_figure(fig, out)


@task(name="publish-speech-report")
def publish_speech_report(report: StageReport, examples: list[dict[str, Any]]) -> None:
    """Every row's metrics, a few transcriptions, and why the winner won, for the UI."""
    publish_table(report.key, report.table(), description=f"{report.title}: PER / WER on the "
                                                                            "test utterances")
    if examples:
        publish_table(f"{report.key}-examples", examples,
                              description=f"{report.title}: test transcriptions")
    publish_markdown(f"{report.key}-summary", report.markdown())
