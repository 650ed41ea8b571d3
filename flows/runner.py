"""Where a flow's parallel tasks run: local threads, or a Dask cluster when one is configured.

Set `UNPAIRED_DASK_ADDRESS=tcp://host:8786` (or pass `--dask` to the CLI) to send the
tasks of every stage to that scheduler; its workers need this checkout installed and the
same `data/` folder (a shared filesystem), since tasks exchange references into the store.
"""
from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from typing_extensions import Self

DASK_ADDRESS_ENV = "UNPAIRED_DASK_ADDRESS"
_OMP_PAUSE_SOFT = 1  # omp_pause_resource_t: free the threads, keep the settings


def release_openmp_threads() -> int:
    """Free the OpenMP team the calling thread started, in every libgomp the process has loaded
    (torch, faiss and sentencepiece each bundle one); returns how many runtimes were asked.

    Why: libgomp counts every live team's threads, and once they outnumber the cores every team's
    threads sleep after 100 spins instead of GOMP_SPINCOUNT's rounds, so each parallel region waits
    for a wake-up. An idle pool thread that once ran torch keeps its team alive: the style flow's
    training then ran on 1.4 of 2 cores, against 1.8 alone (60 steps: 107 s against 77 s).
    """
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:  # not Linux: nothing to free this way
        return 0
    paths = {fields[-1] for fields in (line.split() for line in maps)
             if len(fields) >= 6 and "libgomp" in fields[-1].rsplit("/", 1)[-1]}
    pauses = [pause for pause in map(_pause_function, sorted(paths)) if pause is not None]
    for pause in pauses:
        pause(_OMP_PAUSE_SOFT)
    return len(pauses)


@functools.lru_cache(maxsize=None)
def _pause_function(path: str) -> Callable[[int], int] | None:
    """`omp_pause_resource_all` of the libgomp at `path` (OpenMP 5.0, GCC >= 9), looked up once."""
    return getattr(ctypes.CDLL(path), "omp_pause_resource_all", None)


def _then_release(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    finally:
        release_openmp_threads()


class ReleasingExecutor(ThreadPoolExecutor):
    """A thread pool whose threads free their OpenMP teams after each call (see `release_openmp_threads`)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return super().submit(_then_release, fn, *args, **kwargs)


class ComputeThreadPoolTaskRunner(ThreadPoolTaskRunner):
    """Prefect's thread-pool runner on a `ReleasingExecutor`: a finished task's compute threads do
    not slow the tasks that run after it."""

    def __enter__(self) -> Self:
        super().__enter__()
        self._executor.shutdown()  # type: ignore[union-attr]  # unused yet: swapped before any submit
        self._executor = ReleasingExecutor(max_workers=self._max_workers, initializer=self._register_worker_thread)
        return self


def task_runner(address: str | None = None) -> TaskRunner:
    """A Dask runner bound to `address` (or $UNPAIRED_DASK_ADDRESS), else a thread pool."""
    address = address or os.environ.get(DASK_ADDRESS_ENV)
    if address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    return ComputeThreadPoolTaskRunner()
