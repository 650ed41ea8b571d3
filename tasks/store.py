"""The project's artifact store."""
from __future__ import annotations

from components.store import ArtifactStore
from tasks.runtime import data_root


def store() -> ArtifactStore:
    """The store under `data/store` (or $UNPAIRED_DATA/store)."""
    return ArtifactStore(data_root() / "store")
