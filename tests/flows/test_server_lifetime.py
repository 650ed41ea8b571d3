"""The temporary Prefect server a command starts dies with it, even on SIGKILL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux only")

# A command in miniature: the CLI's `_run` runs a flow that records the server's PID, then sleeps.
_COMMAND = """
import sys, time
from pathlib import Path
from prefect import flow
from flows.cli import _run

@flow
def nap(pid_file: str, seconds: float) -> str:
    from prefect.server.api.server import SubprocessASGIServer
    server = SubprocessASGIServer._instances[None]
    Path(pid_file).write_text(f"{server.server_process.pid} {type(server).__name__}")
    time.sleep(seconds)
    return "rested"

print(_run(nap, sys.argv[1], float(sys.argv[2])))
"""


@pytest.fixture(autouse=True)
def _server():
    """No shared test server here: each command starts its own temporary one."""
    yield


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def _start(tmp_path: Path, seconds: float) -> tuple[subprocess.Popen, Path]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # no configured server
    pid_file = tmp_path / "server.pid"
    proc = subprocess.Popen([sys.executable, "-c", _COMMAND, str(pid_file), str(seconds)], env=env,
                            cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    return proc, pid_file


def _recorded(pid_file: Path) -> tuple[int, str]:
    pid, kind = pid_file.read_text().split()
    return int(pid), kind


def _cleanup(proc: subprocess.Popen, pid_file: Path) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=30)
    if pid_file.is_file() and pid_file.read_text().strip():
        pid = _recorded(pid_file)[0]
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_server_dies_when_the_command_is_killed(tmp_path):
    proc, pid_file = _start(tmp_path, seconds=120)
    try:
        assert _wait(lambda: pid_file.is_file() and pid_file.read_text().strip(), 120), "flow never started"
        pid, kind = _recorded(pid_file)
        assert kind == "LinkedServer" and _alive(pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert _wait(lambda: not _alive(pid), 30), f"server {pid} outlived the killed command"
    finally:
        _cleanup(proc, pid_file)


def test_a_normal_run_goes_through_the_server_and_stops_it(tmp_path):
    proc, pid_file = _start(tmp_path, seconds=0)
    try:
        out, err = proc.communicate(timeout=150)
        assert proc.returncode == 0, err
        assert out.strip().splitlines()[-1] == "rested"
        pid, kind = _recorded(pid_file)
        assert kind == "LinkedServer"
        assert _wait(lambda: not _alive(pid), 10), f"server {pid} left running after a normal exit"
    finally:
        _cleanup(proc, pid_file)
