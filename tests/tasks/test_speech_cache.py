"""The speech tasks' cache keys cover what each task uses and nothing more; the package stays small."""
import ast
import importlib
import inspect
from pathlib import Path

from prefect import Task

from tasks.cache import code_key, module_closure

MODULES = ("data", "text", "segment", "train", "evaluate", "package", "report")
TASKS_DIR = Path(__file__).resolve().parents[2] / "tasks" / "speech"


def _keys() -> dict[str, str]:
    return {m: code_key(f"tasks.speech.{m}") for m in MODULES}


def test_audio_synthesis_does_not_reach_the_gan_or_the_decoder():
    closure = set(module_closure("tasks.speech.data"))
    assert "components.speech.prepare" in closure and "components.speech.synth" in closure
    for far in ("components.speech.gan", "components.speech.decode", "components.speech.supervised",
                "components.speech.segment", "components.speech.lm", "components.speech.model"):
        assert far not in closure, far
    assert "components.speech.gan" not in module_closure("tasks.speech.segment")
    assert "components.speech.decode" not in module_closure("tasks.speech.train")


def test_a_no_leak_split_edit_reaches_the_text_task_transitively(edit_source):
    before = _keys()
    assert "components.split" not in inspect.getsource(importlib.import_module("tasks.speech.text"))
    edit_source("components.split", "def verse_half(", "def verse_half(  ")
    after = _keys()
    assert after["text"] != before["text"]  # via components.speech.corpus -> components.split
    assert after["data"] != before["data"]  # the audio's verses come from the same split


def test_a_decoder_edit_changes_evaluation_and_packaging_only(edit_source):
    before = _keys()
    edit_source("components.speech.decode", "def decode_words(", "def decode_words( ")
    after = _keys()
    assert {m for m in MODULES if after[m] != before[m]} == {"evaluate", "package"}


def test_a_gan_edit_leaves_audio_text_and_segments(edit_source):
    before = _keys()
    edit_source("components.speech.gan", "def transcribe(", "def transcribe( ")
    after = _keys()
    assert {m for m in MODULES if after[m] == before[m]} == {"data", "text", "segment"}


def test_package_init_is_a_docstring_and_modules_are_small():
    init = ast.parse((TASKS_DIR / "__init__.py").read_text(encoding="utf-8"))
    assert len(init.body) == 1 and isinstance(init.body[0], ast.Expr) and isinstance(init.body[0].value.value, str)
    for name in MODULES:
        path = TASKS_DIR / f"{name}.py"
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 250, path
        module = importlib.import_module(f"tasks.speech.{name}")
        for value in vars(module).values():
            if isinstance(value, Task) and value.fn.__module__ == module.__name__:
                assert len(inspect.getsource(value.fn).splitlines()) <= 40, value.name
