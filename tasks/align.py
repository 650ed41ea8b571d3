"""Tasks of the embedding-mapping stage."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from components.align.config import AlignConfig, InitMethod, Retrieval
from components.align.evaluate import csls_p1, evaluate_copy, evaluate_translation
from components.align.lexicon import induce_lexicon, write_lexicon
from components.align.orthographic import NoSeedError
from components.align.pipeline import (AlignResult, align, align_identical_strings, align_supervised,
                                       prepare_spaces)
from components.align.state import Progress
from components.device import DeviceRequest
from components.dictionary import read_pairs
from components.embeddings import Embeddings, read_vec, write_vec
from components.store import ArtifactRef
from tasks.corpus import vocabulary
from tasks.gpu import device_slot
from tasks.cache import STAGE_CACHE
from tasks.store import store


Reference = Literal["procrustes_seed", "procrustes_seed_raw", "identical_strings"]


def run_name(run: ArtifactRef) -> str:
    """Row name of a sweep run, e.g. 'vecmap seed 2'."""
    return f"{run.meta['method']} seed {run.meta['seed']}"


def load_vectors(ref: ArtifactRef) -> Embeddings:
    return read_vec(store().path(ref) / "vectors.vec")


def load_pairs(dictionary: ArtifactRef, part: Literal["seed", "test"]) -> list[tuple[str, str]]:
    return read_pairs(store().path(dictionary) / f"{part}.tsv")


def _save_result(result: AlignResult, history: list[dict[str, Any]], name: str) -> ArtifactRef:
    meta = {"method": result.method, "seed": result.seed, "criterion": result.criterion,
            "seconds": round(result.seconds, 1), "dim": result.src.dim}
    with store().writer("alignment", name, meta, directory=True) as out:
        for side, emb in (("src", result.src), ("tgt", result.tgt)):
            np.save(out.path / f"{side}.npy", emb.vectors.astype(np.float32))
            (out.path / f"{side}.words").write_text("\n".join(emb.words) + "\n", encoding="utf-8")
        (out.path / "history.json").write_text(json.dumps(history, indent=1), encoding="utf-8")
    return out.ref


def load_alignment(ref: ArtifactRef) -> tuple[Embeddings, Embeddings]:
    """The mapped source and target spaces of an alignment run (unit rows, shared space)."""
    return read_alignment(store().path(ref))


def read_alignment(path: Path) -> tuple[Embeddings, Embeddings]:
    """`load_alignment` from the run's directory (src/tgt .npy + .words)."""

    def side(name: str) -> Embeddings:
        words = (path / f"{name}.words").read_text(encoding="utf-8").splitlines()
        return Embeddings(words, np.load(path / f"{name}.npy"))

    return side("src"), side("tgt")


class _Monitor:
    """Records test P@1 at each measured point, for the training plot only: it steers nothing."""

    def __init__(self, src: Embeddings, tgt: Embeddings, pairs: list[tuple[str, str]], config: AlignConfig,
                 device: torch.device) -> None:
        self.x, self.z = prepare_spaces(src, tgt, config, device)
        self.src_words, self.tgt_words, self.pairs, self.config = src.words, tgt.words, pairs, config
        self.points: list[dict[str, Any]] = []

    def __call__(self, progress: Progress) -> None:
        p = progress.point
        row: dict[str, Any] = {"stage": p.stage.value, "step": p.step, "criterion": p.criterion,
                               "objective": p.objective, "test_p1_csls_s2t": None}
        if p.criterion is not None:
            xm, zm = progress.maps.apply(self.x, self.z)
            report = evaluate_translation(xm, zm, self.src_words, self.tgt_words, self.pairs,
                                          self.config.evaluation, self.config.retrieval, "test dictionary")
            row["test_p1_csls_s2t"] = report.metrics["p1_csls_s2t"]
        self.points.append(row)


@task(name="align-run", task_run_name="align-{method.value}-seed-{seed}", cache_policy=STAGE_CACHE)
def align_run(src_vectors: ArtifactRef, tgt_vectors: ArtifactRef, monitor_dictionary: ArtifactRef,
              config: AlignConfig, method: InitMethod, seed: int, device: DeviceRequest = "auto"
              ) -> ArtifactRef | None:
    """One unsupervised alignment (method, seed). The test dictionary is only recorded for the plot.

    None when the method cannot start on this pair (identical strings without a shared script).
    """
    src, tgt = load_vectors(src_vectors), load_vectors(tgt_vectors)
    cfg = config.model_copy(update={"method": method})
    with device_slot(device) as dev:
        monitor = _Monitor(src, tgt, load_pairs(monitor_dictionary, "test"), cfg, dev)
        try:
            result = align(src, tgt, cfg, dev, seed, monitor, src_name=f"{src_vectors.meta['lang']} vectors",
                           tgt_name=f"{tgt_vectors.meta['lang']} vectors")
        except NoSeedError as e:
            get_run_logger().warning("skipped %s seed %d: %s", method.value, seed, e)
            return None
    return _save_result(result, monitor.points, f"align-{method.value}-{seed}")


@task(name="align-reference", task_run_name="reference-{which}", cache_policy=STAGE_CACHE)
def align_reference(src_vectors: ArtifactRef, tgt_vectors: ArtifactRef, dictionary: ArtifactRef,
                    config: AlignConfig, which: Reference, device: DeviceRequest = "auto") -> ArtifactRef | None:
    """A reference row: Procrustes on the seed dictionary (refined or raw), or identical strings
    (None when no word is spelled alike)."""
    src, tgt = load_vectors(src_vectors), load_vectors(tgt_vectors)
    with device_slot(device) as dev:
        if which == "identical_strings":
            try:
                result = align_identical_strings(src, tgt, config, dev)
            except NoSeedError as e:
                get_run_logger().warning("no identical-strings reference: %s", e)
                return None
        else:
            result = align_supervised(src, tgt, load_pairs(dictionary, "seed"), config, dev,
                                      refinement=which == "procrustes_seed", method=which)
    return _save_result(result, [], f"reference-{which}")


@task(name="evaluate-alignment", task_run_name="evaluate-{run.meta[method]}-{run.meta[seed]}",
      cache_policy=STAGE_CACHE)
def evaluate_alignment(run: ArtifactRef, dictionary: ArtifactRef, config: AlignConfig,
                       dev: bool = False) -> dict[str, Any]:
    """P@k (NN and CSLS, both directions, by frequency bucket) on the test dictionary and, with
    `dev` (maps that never saw the seed part), CSLS P@1 on the seed part as `dev_p1_csls_s2t`:
    reporting only, nothing is selected on either."""
    src, tgt = load_alignment(run)
    x, z = torch.from_numpy(src.vectors), torch.from_numpy(tgt.vectors)
    report = evaluate_translation(x, z, src.words, tgt.words, load_pairs(dictionary, "test"), config.evaluation,
                                  config.retrieval, "test dictionary")
    out = {**report.as_dict(), "criterion": run.meta["criterion"], "seconds": run.meta["seconds"]}
    if dev:
        out["dev_p1_csls_s2t"] = csls_p1(x, z, src.words, tgt.words, load_pairs(dictionary, "seed"),
                                         config.retrieval, "seed dictionary")
    return out


@task(name="evaluate-copy", cache_policy=STAGE_CACHE)
def evaluate_copy_row(src_vectors: ArtifactRef, tgt_vectors: ArtifactRef, dictionary: ArtifactRef,
                      config: AlignConfig) -> dict[str, Any]:
    """The 'copy the source word' reference on the same test queries."""
    report = evaluate_copy(load_pairs(dictionary, "test"), vocabulary(src_vectors), vocabulary(tgt_vectors),
                           config.evaluation, "test dictionary")
    return report.as_dict()


@task(name="export-alignment", cache_policy=STAGE_CACHE)
def export_alignment(run: ArtifactRef, config: AlignConfig, src_lang: str, tgt_lang: str) -> ArtifactRef:
    """The selected map as aligned `.vec` files and a CSLS lexicon (`source target score rank`)."""
    src, tgt = load_alignment(run)
    lexicon = induce_lexicon(torch.from_numpy(src.vectors), torch.from_numpy(tgt.vectors), src.words,
                             tgt.words, Retrieval.CSLS, config.retrieval, k=1)
    meta = {**run.meta, "src_lang": src_lang, "tgt_lang": tgt_lang, "lexicon_entries": len(lexicon)}
    with store().writer("aligned-vectors", f"aligned-{src_lang}-{tgt_lang}", meta, directory=True) as out:
        write_vec(src, out.path / f"{src_lang}.vec")
        write_vec(tgt, out.path / f"{tgt_lang}.vec")
        write_lexicon(lexicon, out.path / "lexicon.tsv")
    return out.ref


@task(name="plot-alignment")
def plot_alignment(runs: list[ArtifactRef], selected: ArtifactRef, out: Path) -> Path:
    """Criterion and (monitored) test P@1 over training, one line per run, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_c, ax_p) = plt.subplots(1, 2, figsize=(11, 4))
    for run in runs:
        points = [p for p in json.loads((store().path(run) / "history.json").read_text()) if p["criterion"] is not None]
        label = run_name(run) + (" (selected)" if run == selected else "")
        ax_c.plot([p["criterion"] for p in points], label=label, lw=2.5 if run == selected else 1)
        ax_p.plot([100 * p["test_p1_csls_s2t"] for p in points], label=label, lw=2.5 if run == selected else 1)
    ax_c.set(title="unsupervised criterion (selects)", xlabel="measurement", ylabel="criterion")
    ax_p.set(title="test P@1 CSLS s->t (monitor only)", xlabel="measurement", ylabel="P@1 (%)")
    ax_p.legend(fontsize=7)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


@task(name="publish-alignment-report")
def publish_alignment_report(pair: str, rows: list[dict[str, Any]], summary: str) -> None:
    """Every row (sweep and references) as a table, and why the winner won, for the UI."""
    create_table_artifact(key=f"alignment-{pair}", table=rows, description=f"Word translation P@k, {pair}")
    create_markdown_artifact(key=f"alignment-{pair}-summary", markdown=summary)
