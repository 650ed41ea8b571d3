"""Where a flow's parallel tasks run: local threads, or a Dask cluster when one is configured.

Set `UNPAIRED_DASK_ADDRESS=tcp://host:8786` (or pass `--dask` to the CLI) to send the
tasks of every stage to that scheduler; its workers need this checkout installed and the
same `data/` folder (a shared filesystem), since tasks exchange references into the store.
"""
from __future__ import annotations

import os

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

DASK_ADDRESS_ENV = "UNPAIRED_DASK_ADDRESS"


def task_runner(address: str | None = None) -> TaskRunner:
    """A Dask runner bound to `address` (or $UNPAIRED_DASK_ADDRESS), else a thread pool."""
    address = address or os.environ.get(DASK_ADDRESS_ENV)
    if address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    return ThreadPoolTaskRunner()
