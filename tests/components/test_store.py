import threading

import pytest

from components.errors import StoreError
from components.store import ArtifactRef, ArtifactStore, hash_path


def test_same_content_gives_same_ref_and_one_object(tmp_path):
    store = ArtifactStore(tmp_path)
    refs = []
    for _ in range(2):
        with store.writer("text", "a.txt") as out:
            out.path.write_text("hello\n")
        refs.append(out.ref)
    assert refs[0] == refs[1]
    assert store.path(refs[0]).read_text() == "hello\n"
    assert len(list((tmp_path / "objects").rglob("a.txt"))) == 1


def test_failed_write_leaves_nothing(tmp_path):
    store = ArtifactStore(tmp_path)
    with pytest.raises(RuntimeError):
        with store.writer("text", "a.txt") as out:
            out.path.write_text("half")
            raise RuntimeError("killed mid-write")
    assert not (tmp_path / "objects").exists() or not any((tmp_path / "objects").rglob("*"))
    assert not any((tmp_path / "tmp").iterdir())


def test_directory_artifacts_hash_by_content(tmp_path):
    store = ArtifactStore(tmp_path / "s")
    with store.writer("corpus", "c", directory=True) as out:
        (out.path / "x.txt").write_text("x")
        (out.path / "y.txt").write_text("y")
    assert store.verify(out.ref)
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("x")
    (other / "y.txt").write_text("y")
    assert hash_path(other) == out.ref.sha256
    (other / "y.txt").write_text("z")
    assert hash_path(other) != out.ref.sha256


def test_corrupted_object_fails_verification(tmp_path):
    store = ArtifactStore(tmp_path)
    with store.writer("text", "a.txt") as out:
        out.path.write_text("original")
    store.path(out.ref).write_text("tampered")
    assert not store.verify(out.ref)


def test_refs_cannot_escape_the_store(tmp_path):
    store = ArtifactStore(tmp_path / "store")
    (tmp_path / "secret").write_text("x")
    ref = ArtifactRef(kind="text", sha256="0" * 64, path="../secret")
    with pytest.raises(StoreError, match="escapes"):
        store.path(ref)
    with pytest.raises(StoreError):
        with store.writer("text", "../evil"):
            pass


def test_concurrent_writers_of_same_content_leave_one_valid_copy(tmp_path):
    store = ArtifactStore(tmp_path)
    refs, errors = [], []

    def write():
        try:
            with store.writer("blob", "b.bin", directory=True) as out:
                (out.path / "data").write_bytes(b"x" * 100_000)
            refs.append(out.ref)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(refs)) == 1
    assert store.verify(refs[0])


def test_store_identity_is_stable_and_new_stores_differ(tmp_path):
    a = ArtifactStore(tmp_path / "a")
    assert a.identity() == a.identity() == ArtifactStore(tmp_path / "a").identity()
    assert ArtifactStore(tmp_path / "b").identity() != a.identity()


def test_listing_names_every_object_with_its_kind_and_meta(tmp_path):
    store = ArtifactStore(tmp_path / "store")
    with store.writer("vectors", "vectors.vec", {"lang": "xa"}) as out:
        out.path.write_text("2 1\na 0.5\nb 0.25\n")
    with store.writer("corpus", "corpus-xa", {"sentences": 3}, directory=True) as d:
        (d.path / "train.txt").write_text("x\ny\nz\n")
    rows = {a.kind: a for a in store.listing()}
    assert set(rows) == {"vectors", "corpus"}
    assert rows["vectors"].meta == {"lang": "xa"} and rows["vectors"].bytes == len("2 1\na 0.5\nb 0.25\n")
    assert rows["corpus"].name == "corpus-xa" and rows["corpus"].bytes == 6
    assert rows["corpus"].sha256 == d.ref.sha256 and store.verify(d.ref)


def test_writer_killed_mid_write_leaves_no_object(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "store"
    started = tmp_path / "started"
    script = f"""
import time
from pathlib import Path
from components.store import ArtifactStore
with ArtifactStore(Path({str(root)!r})).writer("model", "model.bin") as out:
    with out.path.open("wb") as f:
        f.write(b"x" * 1_000_000)
        f.flush()
        Path({str(started)!r}).touch()
        time.sleep(60)
"""
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline and proc.poll() is None, "writer did not start"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    store = ArtifactStore(root)
    assert store.listing() == [] and not (root / "objects").exists()
    assert store.clean_tmp(older_than=3600) == 0  # a fresh leftover could be a live writer's
    assert store.clean_tmp(older_than=0) == 1 and not any((root / "tmp").iterdir())
    with store.writer("model", "model.bin") as out:
        out.path.write_bytes(b"y")
    assert store.verify(out.ref)
