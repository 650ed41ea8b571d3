"""Cache keys and run keys derived from the code a task really runs.

A task's key covers the source of every project module it reaches through imports (the
transitive closure, read from the import statements, function-local ones included, each
time a key is made), its inputs by content, its config and the store's identity. No module
list is kept by hand, so a key cannot miss a module that the code calls.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from prefect.cache_policies import INPUTS, CachePolicy
from prefect.context import TaskRunContext

from tasks.store import store

PROJECT_PACKAGES = ("components", "tasks", "flows")


def _is_project(name: str) -> bool:
    return name.split(".", 1)[0] in PROJECT_PACKAGES


@lru_cache(maxsize=4096)
def _source_file(name: str) -> Path | None:
    """The `.py` file of a project module (a package's `__init__.py`), or None if not a module."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _with_packages(name: str) -> list[str]:
    """`a.b.c` -> ['a', 'a.b', 'a.b.c']: importing a module runs its packages' `__init__` too."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


# CPython 3.11 keeps ast.parse's recursion-depth check in interpreter-wide state: two task threads
# parsing at once fail with "SystemError: AST constructor recursion depth mismatch", and Prefect then
# stores no result for those tasks (seen as cache misses on the next run). One parse at a time.
_PARSE = threading.Lock()


@lru_cache(maxsize=4096)
def _imports_of(path: Path, mtime_ns: int, size: int, package: str) -> tuple[str, ...]:
    """Project modules named by the import statements of one file (memoised per file version)."""
    source = path.read_bytes()
    with _PARSE:
        tree = ast.parse(source, filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against the file's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)  # `from pkg import module`
    return tuple(sorted(n for n in found if n and _is_project(n)))


def module_closure(root: str) -> tuple[str, ...]:
    """Every project module that importing `root` runs: itself, its packages, and everything
    they import, transitively (sorted names)."""
    seen: set[str] = set()
    todo = _with_packages(root)
    while todo:
        name = todo.pop()
        if name in seen or not _is_project(name):
            continue
        path = _source_file(name)
        if path is None:  # `from pkg import function`: the name is not a module
            continue
        seen.add(name)
        stat = path.stat()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for imported in _imports_of(path, stat.st_mtime_ns, stat.st_size, package):
            todo.extend(_with_packages(imported))
    return tuple(sorted(seen))


def code_key(root: str) -> str:
    """SHA-256 of the names and bytes of `module_closure(root)`."""
    h = hashlib.sha256()
    for name in module_closure(root):
        h.update(name.encode() + b"\0" + _source_file(name).read_bytes() + b"\0")
    return h.hexdigest()


def run_key(fn: Callable[..., Any], *parts: Any) -> str:
    """Names a resumable checkpoint: the code `fn` reaches, plus `parts` (config, input hashes),
    so a changed trainer never resumes an old trainer's checkpoint."""
    h = hashlib.sha256(code_key(fn.__module__).encode())
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, default=str).encode() + b"\0")
    return h.hexdigest()[:24]


def checkpoint_dir(name: str, key: str) -> Path:
    """Where a resumable run keeps its checkpoints, inside the store (removed when it finishes)."""
    return store().root / "checkpoints" / f"{name}-{key}"


@dataclass
class CodeClosure(CachePolicy):
    """Keys on the source of every project module the task's module reaches through imports."""

    def compute_key(self, task_ctx: TaskRunContext, inputs: dict[str, Any] | None,
                    flow_parameters: dict[str, Any] | None, **kwargs: Any) -> str | None:
        return code_key(task_ctx.task.fn.__module__)


@dataclass
class StoreIdentity(CachePolicy):
    """Keys on the identity of the artifact store the cached refs point into."""

    def compute_key(self, task_ctx: TaskRunContext, inputs: dict[str, Any] | None,
                    flow_parameters: dict[str, Any] | None, **kwargs: Any) -> str | None:
        return store().identity()


# Inputs hash by value: refs carry the content's sha256, configs their fields.
STAGE_CACHE: CachePolicy = CodeClosure() + INPUTS + StoreIdentity()
