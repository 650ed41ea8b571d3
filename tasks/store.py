"""The project's artifact store and the cache policy of every stage task."""
from __future__ import annotations

import hashlib
import importlib
import inspect
from dataclasses import dataclass
from typing import Any

from prefect.cache_policies import INPUTS, TASK_SOURCE, CachePolicy
from prefect.context import TaskRunContext

from components.store import ArtifactStore
from tasks.runtime import data_root


def store() -> ArtifactStore:
    """The store under `data/store` (or $UNPAIRED_DATA/store)."""
    return ArtifactStore(data_root() / "store")


@dataclass
class ComponentSource(CachePolicy):
    """Keys on the source of the component modules a task calls.

    TASK_SOURCE only sees the task's own lines; the algorithm lives in components,
    so editing it must invalidate the cache too.
    """

    modules: tuple[str, ...] = ()

    def compute_key(self, task_ctx: TaskRunContext, inputs: dict[str, Any] | None,
                    flow_parameters: dict[str, Any] | None, **kwargs: Any) -> str | None:
        h = hashlib.sha256()
        for name in sorted(self.modules):
            h.update(inspect.getsource(importlib.import_module(name)).encode())
        return h.hexdigest()


@dataclass
class StoreIdentity(CachePolicy):
    """Keys on the identity of the artifact store the cached refs point into."""

    def compute_key(self, task_ctx: TaskRunContext, inputs: dict[str, Any] | None,
                    flow_parameters: dict[str, Any] | None, **kwargs: Any) -> str | None:
        return store().identity()


def stage_cache(*modules: str) -> CachePolicy:
    """Cache key = task source + component source + inputs (refs hash by content) + store id."""
    return TASK_SOURCE + ComponentSource(modules=tuple(modules)) + INPUTS + StoreIdentity()
