"""Cache keys come from the code a task reaches: every import counted, nothing else."""
import importlib
import inspect
import pkgutil
import types

from prefect import Task

import tasks.cache as cache
from tasks.cache import CodeClosure, code_key, module_closure, run_key

PROJECT = ("components", "tasks", "flows")


def _project_modules(package: str) -> list[str]:
    root = importlib.import_module(package)
    return [package] + [m.name for m in pkgutil.walk_packages(root.__path__, prefix=f"{package}.")]


def _all_tasks() -> list[Task]:
    found = {}
    for name in _project_modules("flows") + _project_modules("tasks"):
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, Task):
                found[(value.fn.__module__, value.fn.__qualname__)] = value
    return list(found.values())


def _policies(policy) -> list:
    return list(getattr(policy, "policies", [policy]))


def _referenced_project_modules(module: types.ModuleType) -> set[str]:
    """Project modules that a loaded module's globals come from (read at run time, not from its
    import statements: an independent account of what it uses)."""
    out = set()
    for value in vars(module).values():
        if isinstance(value, types.ModuleType):
            name = value.__name__
            if name.startswith(module.__name__ + "."):  # a loaded submodule, set on its package by Python
                continue
        else:
            name = getattr(value, "__module__", None) if (inspect.isclass(value) or callable(value)) else None
            if isinstance(value, Task):
                name = value.fn.__module__
        if isinstance(name, str) and name.split(".")[0] in PROJECT:
            out.add(name)
    return out


def test_every_cached_task_key_covers_every_project_module_it_uses():
    tasks = _all_tasks()
    assert len(tasks) >= 20  # every stage's tasks were found
    cached = [t for t in tasks if any(isinstance(p, CodeClosure) for p in _policies(t.cache_policy))]
    assert len(cached) >= 15
    for t in cached:
        closure = set(module_closure(t.fn.__module__))
        assert t.fn.__module__ in closure
        for name in closure:
            module = importlib.import_module(name)
            missing = _referenced_project_modules(module) - closure
            assert not missing, f"task {t.name}: {name} uses {sorted(missing)}, which its key leaves out"


def test_tasks_that_store_artifacts_key_on_their_code():
    for t in _all_tasks():
        source = inspect.getsource(t.fn)
        if ".writer(" in source:
            assert any(isinstance(p, CodeClosure) for p in _policies(t.cache_policy)), t.name


def test_an_edit_reached_only_transitively_changes_the_key(edit_source):
    # prepare-side never imports components.dictionary; the mapping runs reach it through
    # components.dictionary -> components.split (the stable hash)
    before = {m: code_key(m) for m in ("tasks.corpus.text", "tasks.align.run", "tasks.corpus.embeddings")}
    assert "components.split" not in inspect.getsource(importlib.import_module("tasks.align.run"))
    edit_source("components.split", "def stable_unit(", "def stable_unit(  ")
    assert code_key("tasks.corpus.text") != before["tasks.corpus.text"]
    assert code_key("tasks.align.run") != before["tasks.align.run"]
    assert code_key("tasks.corpus.embeddings") == before["tasks.corpus.embeddings"]


def test_an_unrelated_edit_leaves_the_key(edit_source):
    before = code_key("tasks.corpus.embeddings"), code_key("tasks.corpus.dictionary")
    edit_source("components.dictionary", "def split_dictionary(", "def split_dictionary( ")
    assert code_key("tasks.corpus.embeddings") == before[0]  # fastText is not retrained
    assert code_key("tasks.corpus.dictionary") != before[1]


def test_closure_follows_function_local_and_package_imports(tmp_path, monkeypatch):
    pkg = tmp_path / "components" / "zz_probe"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from components.zz_probe import b\n    return b.g()\n")
    (pkg / "b.py").write_text("from . import c\n\ndef g():\n    return c.h()\n")
    (pkg / "c.py").write_text("def h():\n    return 1\n")
    import components
    monkeypatch.setattr(components, "__path__", [str(tmp_path / "components"), *components.__path__])
    cache._source_file.cache_clear()
    try:
        closure = module_closure("components.zz_probe.a")
        assert {"components", "components.zz_probe", "components.zz_probe.a", "components.zz_probe.b",
                "components.zz_probe.c"} <= set(closure)
        assert not any(n.startswith("tasks") for n in closure)
    finally:
        cache._source_file.cache_clear()


def test_run_key_changes_with_code_and_parts(edit_source):
    from tasks.align.run import align_run

    key = run_key(align_run.fn, "abc", {"steps": 3})
    assert key == run_key(align_run.fn, "abc", {"steps": 3})
    assert key != run_key(align_run.fn, "abc", {"steps": 4})
    edit_source("components.align.vecmap", "def ", "def  ")
    assert key != run_key(align_run.fn, "abc", {"steps": 3})


def test_components_import_neither_tasks_nor_flows():
    for name in _project_modules("components"):
        closure = module_closure(name)
        assert not [n for n in closure if n.split(".")[0] in ("tasks", "flows")], name


def _top_level_imports(name: str) -> set[str]:
    import ast

    tree = ast.parse(cache._source_file(name).read_bytes())
    out = set()
    for node in tree.body:  # module level only: what importing the module runs at once
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in out if n.split(".")[0] in PROJECT and cache._source_file(n) is not None}


def test_no_import_cycles():
    modules = _project_modules("components") + _project_modules("tasks") + _project_modules("flows")
    graph = {m: _top_level_imports(m) - {m} for m in modules}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in graph.get(m, ()):
            assert state.get(n) != 1, "import cycle: " + " -> ".join(path + [m, n])
            if n not in state:
                visit(n, path + [m])
        state[m] = 2

    for m in modules:
        if m not in state:
            visit(m, [])


def test_tasks_are_short_and_task_files_small():
    # a task resolves refs, calls a component, saves and publishes: the algorithm lives in components
    for t in _all_tasks():
        if t.fn.__module__.startswith("tasks."):
            lines = len(inspect.getsource(t.fn).splitlines())
            assert lines <= 45, f"task {t.name}: {lines} lines"
    for name in _project_modules("tasks"):
        lines = len(cache._source_file(name).read_text(encoding="utf-8").splitlines())
        assert lines <= 250, f"{name}: {lines} lines"
