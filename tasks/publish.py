"""Reports for the UI, also kept on disk: `unpaired report KEY` reads them without a server.

Each publication creates the Prefect artifact (what the UI shows) and overwrites
data/reports/artifacts/<key>.json with the same data, so the latest one is always at hand.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from components.atomic import read_json, write_json
from components.errors import InputError
from tasks.runtime import data_root

_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # Prefect's rule for artifact keys


def published_path(key: str) -> Path:
    if not _KEY.match(key):
        raise InputError(key, "not a report key (lowercase letters, digits and dashes, e.g. alignment-en-fr)")
    return data_root() / "reports" / "artifacts" / f"{key}.json"


def _keep(key: str, kind: str, data: Any, description: str | None) -> None:
    write_json(published_path(key), {"key": key, "type": kind, "description": description, "data": data,
                                     "updated": time.time()})


def publish_table(key: str, table: list[dict[str, Any]], description: str | None = None) -> None:
    create_table_artifact(key=key, table=table, description=description)
    _keep(key, "table", table, description)


def publish_markdown(key: str, markdown: str, description: str | None = None) -> None:
    create_markdown_artifact(key=key, markdown=markdown, description=description)
    _keep(key, "markdown", markdown, description)


def read_published(key: str) -> dict[str, Any] | None:
    """The latest report published under `key` on this machine, or None."""
    path = published_path(key)
    return read_json(path) if path.is_file() else None
