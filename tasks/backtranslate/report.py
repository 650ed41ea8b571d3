"""Back-translation tasks for the UI: the training plot and the stage report."""
from __future__ import annotations

from pathlib import Path

from prefect import task

from components.backtranslate.catalog import TrainingHistory
from components.plots import pyplot, save_figure
from components.report import StageReport
from components.store import ArtifactRef
from tasks.publish import publish_markdown, publish_table
from tasks.store import store


@task(name="plot-backtranslation")
def plot_backtranslation(model: ArtifactRef, out: Path) -> Path:
    """Training losses and round-trip BLEU per checkpoint (selected one marked), as a PNG."""
    rows = TrainingHistory.load(store().path(model)).rows
    steps = [r["step"] for r in rows]
    fig, (ax_l, ax_b) = pyplot().subplots(1, 2, figsize=(11, 4))
    ax_l.plot(steps, [r["ae_loss"] for r in rows], label="denoising")
    ax_l.plot(steps, [r["bt_loss"] for r in rows], label="back-translation")
    ax_l.set(title="training loss (mean per checkpoint interval)", xlabel="step", ylabel="cross-entropy")
    ax_l.legend()
    adv = [r for r in rows if r.get("disc_accuracy") is not None]  # adversarial runs, once the adversary started
    if adv:
        ax_d = ax_l.twinx()
        ax_d.plot([r["step"] for r in adv], [r["disc_accuracy"] for r in adv], "k:", label="discriminator accuracy")
        ax_d.plot([r["step"] for r in adv], [r["adv_reward"] for r in adv], "k--", label="D(translation) (reward)")
        ax_d.set(ylim=(0, 1), ylabel="adversary")
        ax_d.legend(fontsize=8, loc="center right")
    ax_b.plot(steps, [r["round_trip_bleu_src"] for r in rows], label="src->tgt->src")
    ax_b.plot(steps, [r["round_trip_bleu_tgt"] for r in rows], label="tgt->src->tgt")
    ax_b.plot(steps, [r["criterion"] for r in rows], label="mean (selects)", lw=2.5)
    best = model.meta.get("best_step")
    if best is not None and best >= 0:
        ax_b.axvline(best, color="grey", ls="--", lw=1, label="selected")
    ax_b.set(title="round-trip BLEU, held-out monolingual sentences", xlabel="step", ylabel="BLEU")
    ax_b.legend(fontsize=8)
    return save_figure(fig, out)


@task(name="publish-backtranslation-report")
def publish_backtranslation_report(report: StageReport, model: ArtifactRef | None) -> None:
    """Model and baseline rows, the model's per-checkpoint history (unless `model` is None: the caller
    publishes the histories itself), and the summary, for the UI."""
    publish_table(report.key, report.table(), description=report.title)
    if model is not None:
        publish_table(f"{report.key}-checkpoints", TrainingHistory.load(store().path(model)).rounded(),
                      description="Losses and round-trip BLEU per checkpoint")
    publish_markdown(f"{report.key}-summary", report.markdown())
