"""The one atomic writer: a file appears complete or not at all, even if the writer is killed."""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target` (same suffix, so tools that look at it still
    work); on success it is renamed onto `target`, on an exception it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:12]}.part{target.suffix}")
    try:
        yield tmp
        os.replace(tmp, target)  # atomic within one filesystem
    finally:
        tmp.unlink(missing_ok=True)


def write_text(target: Path, text: str) -> Path:
    """`text` as UTF-8 at `target`, atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_json(target: Path, obj: Any, indent: int | None = 1) -> Path:
    """`obj` as JSON at `target`, atomically (non-JSON values written with `str`)."""
    return write_text(target, json.dumps(obj, indent=indent, default=str))


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
