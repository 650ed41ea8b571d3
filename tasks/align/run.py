"""Mapping tasks: one unsupervised run of the sweep, and the reference rows."""
from __future__ import annotations

from typing import Literal

from prefect import get_run_logger, task

from components.align.catalog import AlignmentRun
from components.align.config import AlignConfig, InitMethod
from components.align.monitor import TestMonitor
from components.align.orthographic import NoSeedError
from components.align.pipeline import AlignResult, align, align_identical_strings, align_supervised
from components.device import DeviceRequest
from components.dictionary import load_part
from components.embeddings import load_vectors
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.gpu import device_slot
from tasks.store import store

Reference = Literal["procrustes_seed", "procrustes_seed_raw", "identical_strings"]


def _save(result: AlignResult, history: list[dict], name: str) -> ArtifactRef:
    meta = {"method": result.method, "seed": result.seed, "criterion": result.criterion,
            "seconds": round(result.seconds, 1), "dim": result.src.dim}
    with store().writer("alignment", name, meta, directory=True) as out:
        AlignmentRun(result.src, result.tgt, history).save(out.path)
    return out.ref


def with_first_part(config: AlignConfig, src_vectors: ArtifactRef, tgt_vectors: ArtifactRef) -> AlignConfig:
    """`config` with GW on the first part of vectors made of parts (fastText's, before count vectors),
    when both sides have the same parts and no `gromov.dims` is set."""
    parts = src_vectors.meta.get("parts")
    if config.gromov.dims is not None or not parts or parts != tgt_vectors.meta.get("parts"):
        return config
    return config.model_copy(update={"gromov": config.gromov.model_copy(update={"dims": parts[0]})})


@task(name="align-run", task_run_name="align-{method.value}-seed-{seed}", cache_policy=STAGE_CACHE)
def align_run(src_vectors: ArtifactRef, tgt_vectors: ArtifactRef, monitor_dictionary: ArtifactRef,
              config: AlignConfig, method: InitMethod, seed: int, device: DeviceRequest = "auto"
              ) -> ArtifactRef | None:
    """One unsupervised alignment (method, seed). The test dictionary is only recorded for the plot.

    None when the method cannot start on this pair (identical strings without a shared script).
    """
    st = store()
    src, tgt = load_vectors(st.path(src_vectors)), load_vectors(st.path(tgt_vectors))
    cfg = with_first_part(config.model_copy(update={"method": method}), src_vectors, tgt_vectors)
    with device_slot(device) as dev:
        monitor = TestMonitor(src, tgt, load_part(st.path(monitor_dictionary), "test"), cfg, dev)
        try:
            result = align(src, tgt, cfg, dev, seed, monitor, src_name=f"{src_vectors.meta['lang']} vectors",
                           tgt_name=f"{tgt_vectors.meta['lang']} vectors")
        except NoSeedError as e:
            get_run_logger().warning("skipped %s seed %d: %s", method.value, seed, e)
            return None
    return _save(result, monitor.points, f"align-{method.value}-{seed}")


@task(name="align-reference", task_run_name="reference-{which}", cache_policy=STAGE_CACHE)
def align_reference(src_vectors: ArtifactRef, tgt_vectors: ArtifactRef, dictionary: ArtifactRef,
                    config: AlignConfig, which: Reference, device: DeviceRequest = "auto") -> ArtifactRef | None:
    """A reference row: Procrustes on the seed dictionary (refined or raw), or identical strings
    (None when no word is spelled alike)."""
    st = store()
    src, tgt = load_vectors(st.path(src_vectors)), load_vectors(st.path(tgt_vectors))
    with device_slot(device) as dev:
        if which == "identical_strings":
            try:
                result = align_identical_strings(src, tgt, config, dev)
            except NoSeedError as e:
                get_run_logger().warning("no identical-strings reference: %s", e)
                return None
        else:
            result = align_supervised(src, tgt, load_part(st.path(dictionary), "seed"), config, dev,
                                      refinement=which == "procrustes_seed", method=which)
    return _save(result, [], f"reference-{which}")
