"""The temporary Prefect API server a command starts, tied to the command's life.

When no server is configured (PREFECT_API_URL unset), Prefect starts a uvicorn subprocess
on first use and stops it at exit; nothing stops it when the command is killed with
SIGKILL, and it lives on as an orphan. Here the same server is started with the kernel's
parent-death signal set (Linux `prctl(PR_SET_PDEATHSIG)`), so it receives SIGTERM the
moment the command dies, however it dies.

The server is registered as Prefect's default temporary server, the instance every part
of Prefect asks for when no URL is set (the client, the events worker, in any thread), so
Prefect's ephemeral mode is otherwise unchanged: same command line, 127.0.0.1 and a free
port, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, PREFECT_HOME and analytics from
the environment that `tasks.runtime` sets, stopped by Prefect at normal exit.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from typing import Any, Callable, Optional

import prefect
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import get_current_settings

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with(parent: int) -> Callable[[], None] | None:
    """A `preexec_fn` giving the child SIGTERM when thread `parent` ends; None off Linux.

    libc's prctl is looked up here, in the parent, so the forked child only calls it.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the command died between fork and prctl
            os._exit(1)

    return preexec


class LinkedServer(SubprocessASGIServer):
    """Prefect's temporary server, started so that it dies with this process."""

    def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
        # Prefect's own command (SubprocessASGIServer._run_uvicorn_command, Prefect 3.x)
        # plus the parent-death signal.
        server_env = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        return subprocess.Popen(
            args=[sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
                  "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                  "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, **server_env, **get_current_settings().to_environment_variables(exclude_unset=True)},
            preexec_fn=_die_with(os.getpid()),
        )


def linked_server() -> Optional[SubprocessASGIServer]:
    """Start the temporary server now, tied to this process; None when one is configured.

    Call it from the main thread: the kernel's "parent" is the thread that forks, and the
    server would die with a worker thread. Idempotent; Prefect stops the server at exit.
    """
    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    server = LinkedServer()  # Prefect's default instance (port None) if one already exists
    server.start()
    return server
