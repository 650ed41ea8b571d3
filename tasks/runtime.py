"""Where the project keeps its state, set before Prefect is imported.

Prefect reads its settings once at import, so `configure()` must run first: the
`tasks` and `flows` packages call it in their `__init__`. Explicit environment
variables always win over these defaults.
"""
from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_PARENT = Path(__file__).resolve().parents[1]


def project_root() -> Path:
    """The checkout (editable install) or, for an installed package, the working directory."""
    if "UNPAIRED_HOME" in os.environ:
        return Path(os.environ["UNPAIRED_HOME"]).resolve()
    if (_PACKAGE_PARENT / "pyproject.toml").is_file():
        return _PACKAGE_PARENT
    return Path.cwd()


def data_root() -> Path:
    """Runtime data: corpora, the artifact store, Prefect results, reports."""
    return Path(os.environ.get("UNPAIRED_DATA", project_root() / "data")).resolve()


def configure() -> None:
    """Keep Prefect's state inside the project, never phone home, and let idle compute threads sleep soon."""
    defaults = {
        "PREFECT_HOME": str(project_root() / ".prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOCAL_STORAGE_PATH": str(data_root() / "prefect-results"),
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        # the temporary server a command starts waits 20 s by default; a loaded 2-core machine needs more
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        # torch's OpenMP threads spin 10k rounds, not libgomp's 300k, before they sleep (read when torch
        # loads, so here): on a machine whose cores are busy a spinning team waits for descheduled members.
        # 16 quick-preset steps on 2 threads (scripts/throughput_profile.py), quiet / beside two busy
        # loops: libgomp's default 15.2 / 61.7 s, this 14.1 / 48.9 s, never spinning (OMP_WAIT_POLICY=
        # PASSIVE) 17.8-20.8 / 34.2 s, as slow as one thread when quiet. The weights are the same in all
        "GOMP_SPINCOUNT": "10000",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    try:  # Prefect creates its home without parents, and warns on every command when it cannot
        Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # Prefect's own warning then names the folder
