"""The local task runner frees a finished task's OpenMP threads, so later tasks keep their pace."""
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from prefect import flow, task

from flows.runner import ComputeThreadPoolTaskRunner, ReleasingExecutor, release_openmp_threads, task_runner

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")


def _tids() -> set[int]:
    return {int(t) for t in os.listdir("/proc/self/task")}


def _team_threads() -> set[int]:
    """Run a product on a 3-thread team from this thread; the threads that appeared for it."""
    torch.set_num_threads(3)
    before = _tids()
    a = torch.randn(256, 256)
    for _ in range(5):
        a = (a @ a).tanh()
    return _tids() - before


def _alive_after(threads: set[int], seconds: float = 5.0) -> set[int]:
    """Those of `threads` still alive once they had `seconds` to end."""
    deadline = time.monotonic() + seconds
    while threads & _tids() and time.monotonic() < deadline:
        time.sleep(0.05)
    return threads & _tids()


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_a_finished_call_keeps_its_team_unless_released():
    with ThreadPoolExecutor(1) as pool:
        team = pool.submit(_team_threads).result()
        assert team, "torch started no OpenMP threads"
        assert _alive_after(team, 0.5) == team  # an idle pool thread keeps its team...
        assert pool.submit(release_openmp_threads).result() >= 1
        assert not _alive_after(team)  # ...until that thread frees it
    with ReleasingExecutor(1) as pool:
        team = pool.submit(_team_threads).result()
        assert team and not _alive_after(team)


@task
def _torch_task() -> set[int]:
    return _team_threads()


def test_the_flows_runner_frees_each_tasks_team():
    runner = task_runner()
    assert isinstance(runner, ComputeThreadPoolTaskRunner)

    @flow(task_runner=runner)
    def two_tasks() -> tuple[set[int], set[int]]:
        first = _torch_task.submit().result()
        return first, _alive_after(first)  # the pool, and the thread that ran the task, still live

    team, alive = two_tasks()
    assert team and not alive
