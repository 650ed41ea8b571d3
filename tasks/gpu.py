"""The `gpu` slot: training tasks hold one per device so concurrent runs queue."""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from prefect.concurrency.sync import concurrency

from components.device import DeviceRequest, cuda_device_count, select_device
from tasks.runtime import data_root

GPU_LIMIT = "gpu"  # global concurrency limit, one slot per device (created by `make deploy`)


def _claim_index(devices: int, lock_dir: Path, poll_seconds: float) -> tuple[int, int]:
    """Lock the first free device index on this machine; returns (index, lock fd)."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    while True:
        for index in range(devices):
            fd = os.open(lock_dir / f"gpu-{index}.lock", os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return index, fd
            except BlockingIOError:
                os.close(fd)
        time.sleep(poll_seconds)


@contextmanager
def device_slot(requested: DeviceRequest = "auto", devices: int | None = None,
                lock_dir: Path | None = None, poll_seconds: float = 0.5) -> Iterator[torch.device]:
    """Yield the device a training task should use, holding a `gpu` slot while on CUDA.

    devices: CUDA device count; detected when None (tests inject it).
    On CPU no slot is taken. On CUDA the Prefect limit bounds concurrent holders
    across workers, and a lock file binds the holder to one device index here.
    """
    count = cuda_device_count() if devices is None else devices
    device = select_device(requested, count)
    if device.type == "cpu":
        yield device
        return
    with concurrency(GPU_LIMIT, occupy=1, strict=False):
        index, fd = _claim_index(count, lock_dir or data_root() / "locks", poll_seconds)
        try:
            yield select_device(requested, count, index)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
