"""Content-addressed artifact store with atomic writes.

An artifact is a file or a directory written under `<root>/tmp/` and moved into
`<root>/objects/<sha[:2]>/<sha>/<name>` by a single rename once complete, so a
killed writer never leaves an entry that a later run would trust.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from components.atomic import write_json
from components.errors import StoreError

_CHUNK = 1 << 20


class ArtifactRef(BaseModel):
    """A small, hashable pointer to a stored artifact.

    `path` is relative to the store root and derived from the content hash, so two
    refs are equal exactly when their contents (and metadata) are.
    """

    model_config = ConfigDict(frozen=True)

    kind: str
    sha256: str
    path: str
    meta: dict[str, Any] = Field(default_factory=dict)

    def __hash__(self) -> int:  # frozen models with dict fields are not hashable by default
        return hash((self.kind, self.sha256, self.path))


def hash_path(path: Path) -> str:
    """SHA-256 of a file's bytes, or of a directory's sorted (relative name, file hash) pairs."""
    path = Path(path)
    if path.is_file():
        h = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        return h.hexdigest()
    if path.is_dir():
        h = hashlib.sha256(b"dir\0")
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(child.relative_to(path).as_posix().encode() + b"\0")
            h.update(hash_path(child).encode() + b"\0")
        return h.hexdigest()
    raise StoreError(f"{path}: nothing to hash")


class ArtifactStore:
    """Files addressed by content under one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._tmp = self.root / "tmp"
        self._objects = self.root / "objects"
        self._index = self.root / "index"

    def identity(self) -> str:
        """A random id written when the store is created.

        Cache keys include it, so results cached for a deleted or different store are
        never trusted: their refs would point at objects that are not here.
        """
        id_file = self.root / "STORE_ID"
        if not id_file.is_file():
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".id-")
            with os.fdopen(fd, "w") as f:
                f.write(uuid.uuid4().hex)
            try:
                os.link(tmp, id_file)  # fails if another process created it first
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        return id_file.read_text().strip()

    def path(self, ref: ArtifactRef) -> Path:
        """Absolute path of a stored artifact; refuses refs that point outside the store."""
        target = (self.root / ref.path).resolve()
        if not target.is_relative_to(self._objects):
            raise StoreError(f"artifact path {ref.path!r} escapes the store at {self.root}")
        if not target.exists():
            raise StoreError(f"artifact {ref.kind} {ref.sha256[:12]} is missing from {self.root}")
        return target

    def exists(self, ref: ArtifactRef) -> bool:
        try:
            self.path(ref)
        except StoreError:
            return False
        return True

    def verify(self, ref: ArtifactRef) -> bool:
        """True when the stored bytes still hash to the ref's sha256."""
        return self.exists(ref) and hash_path(self.path(ref)) == ref.sha256

    @contextmanager
    def writer(self, kind: str, name: str, meta: dict[str, Any] | None = None,
               directory: bool = False) -> Iterator["PendingArtifact"]:
        """Yield a temporary path to write one artifact; commit it atomically on success.

        On an exception the temporary file or directory is removed and nothing is stored.
        """
        if not name or "/" in name or name in {".", ".."}:
            raise StoreError(f"invalid artifact name {name!r}")
        self._tmp.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=self._tmp))
        pending = PendingArtifact(kind, staging / name, dict(meta or {}))
        if directory:
            pending.path.mkdir()
        try:
            yield pending
            pending.ref = self._commit(kind, pending.path, pending.meta)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _commit(self, kind: str, staged: Path, meta: dict[str, Any]) -> ArtifactRef:
        if not staged.exists():
            raise StoreError(f"writer for {kind} produced no {staged.name}")
        sha = hash_path(staged)
        final_dir = self._objects / sha[:2] / sha
        final = final_dir / staged.name
        if not final.exists():
            final_dir.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staged, final)  # atomic within one filesystem
            except OSError:
                # A concurrent writer committed the same content first: keep its copy.
                if not final.exists():
                    raise
        ref = ArtifactRef(kind=kind, sha256=sha, path=final.relative_to(self.root).as_posix(), meta=meta)
        self._describe(ref, final_dir)
        return ref

    def _describe(self, ref: ArtifactRef, final_dir: Path) -> None:
        """A sidecar `index/<sha>.json` (kind, meta, time), so the store can be listed. Written
        after the object, atomically; a missing sidecar never affects a ref."""
        sidecar = self._index / f"{final_dir.name}.json"
        self._index.mkdir(exist_ok=True)
        if sidecar.exists():
            return
        write_json(sidecar, {**ref.model_dump(mode="json"), "created": time.time()}, indent=None)

    def clean_tmp(self, older_than: float = 3600.0) -> int:
        """Remove staging leftovers of writers that were killed (older than `older_than` seconds,
        so live writers keep theirs); returns how many were removed. Objects are never touched."""
        if not self._tmp.is_dir():
            return 0
        cutoff, removed = time.time() - older_than, 0
        for entry in self._tmp.iterdir():
            if entry.stat().st_mtime <= cutoff:
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
                removed += 1
        return removed

    def matching(self, sha_prefix: str, kind: str | None = None) -> list[ArtifactRef]:
        """The stored artifacts (of `kind`) whose sha256 starts with `sha_prefix` (8 hex digits or more)."""
        prefix = sha_prefix.strip().lower()
        if len(prefix) < 8 or any(c not in "0123456789abcdef" for c in prefix):
            raise StoreError(f"{sha_prefix!r}: give at least 8 hex digits of an artifact's sha256")
        candidates = sorted(self._objects.glob(f"{prefix[:2]}/{prefix}*")) if self._objects.is_dir() else []
        return [ArtifactRef(kind=a.kind, sha256=a.sha256, path=a.path, meta=a.meta)
                for a in map(self._stored, candidates) if a is not None and (kind is None or a.kind == kind)]

    def find(self, sha_prefix: str, kind: str | None = None) -> ArtifactRef:
        """The one stored artifact (of `kind`) whose sha256 starts with `sha_prefix`."""
        found = self.matching(sha_prefix, kind)
        if len(found) != 1:
            what = f"{kind} artifact" if kind else "artifact"
            raise StoreError(f"{sha_prefix!r}: {'no' if not found else 'more than one'} {what} with this sha256 "
                             f"in {self.root} (`unpaired artifacts` lists them)")
        return found[0]

    def listing(self) -> list[StoredArtifact]:
        """Every object in the store, newest first (kind/meta from its sidecar when there is one)."""
        objects = self._objects.glob("*/*") if self._objects.is_dir() else []
        return sorted((a for a in map(self._stored, objects) if a is not None), key=lambda a: -a.created)

    def _stored(self, obj: Path) -> StoredArtifact | None:
        """The listing row of one object directory (None if it is not a committed object)."""
        entries = list(obj.iterdir()) if obj.is_dir() else []
        if len(entries) != 1:
            return None
        size = sum(p.stat().st_size for p in entries[0].rglob("*") if p.is_file()) if entries[0].is_dir() \
            else entries[0].stat().st_size
        info: dict[str, Any] = {}
        sidecar = self._index / f"{obj.name}.json"
        if sidecar.is_file():
            try:
                info = json.loads(sidecar.read_text(encoding="utf-8"))
            except ValueError:
                info = {}
        return StoredArtifact(kind=info.get("kind", "?"), name=entries[0].name, sha256=obj.name,
                              path=entries[0].relative_to(self.root).as_posix(), bytes=size,
                              created=info.get("created", obj.stat().st_mtime), meta=info.get("meta", {}))


class StoredArtifact(BaseModel):
    """One row of the store's listing."""

    kind: str
    name: str
    sha256: str
    path: str
    bytes: int
    created: float  # seconds since the epoch
    meta: dict[str, Any] = Field(default_factory=dict)


class PendingArtifact:
    """Where a writer puts its bytes; `ref` is set once the artifact is committed."""

    def __init__(self, kind: str, path: Path, meta: dict[str, Any]) -> None:
        self.kind = kind
        self.path = path
        self.meta = meta
        self.ref: ArtifactRef | None = None
