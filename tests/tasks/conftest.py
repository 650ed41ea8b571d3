from pathlib import Path

import pytest

import tasks.cache as cache


@pytest.fixture(autouse=True)
def _server(prefect_server):
    yield


@pytest.fixture
def edit_source(monkeypatch, tmp_path: Path):
    """`edit(module, old, new)`: key computations read an edited copy of `module`; the real
    file is untouched."""

    def edit(module: str, old: str, new: str) -> None:
        original = cache._source_file(module)
        text = original.read_text(encoding="utf-8")
        assert old in text
        copy = tmp_path / module.replace(".", "_") / original.name
        copy.parent.mkdir(parents=True)
        copy.write_text(text.replace(old, new, 1), encoding="utf-8")
        real = cache._source_file
        monkeypatch.setattr(cache, "_source_file", lambda name: copy if name == module else real(name))

    return edit
