"""The back-translation tasks' cache keys cover what each task uses and nothing more."""
from tasks.cache import code_key, module_closure

MODULES = ("wordbyword", "train", "evaluate", "report")
MODEL = ("components.backtranslate.model", "components.backtranslate.decode", "components.backtranslate.bundle")


def _keys() -> dict[str, str]:
    return {m: code_key(f"tasks.backtranslate.{m}") for m in MODULES}


def test_the_baseline_and_the_report_never_reach_the_transformer():
    for module in ("wordbyword", "report"):
        closure = set(module_closure(f"tasks.backtranslate.{module}"))
        assert not closure & set(MODEL), module
        assert "components.backtranslate.train" not in closure
    assert "components.align.retrieval" in module_closure("tasks.backtranslate.wordbyword")  # one CSLS
    assert "components.backtranslate.train" not in module_closure("tasks.backtranslate.evaluate")


def test_a_retrieval_edit_changes_the_lexicon_users_only(edit_source):
    before = _keys()
    edit_source("components.align.retrieval", "def csls_knn(", "def csls_knn( ")
    after = _keys()
    assert {m for m in MODULES if after[m] != before[m]} == {"wordbyword", "train"}


def test_a_decoder_edit_changes_training_and_evaluation_only(edit_source):
    before = _keys()
    edit_source("components.backtranslate.decode", "def greedy(", "def greedy( ")
    after = _keys()
    assert {m for m in MODULES if after[m] != before[m]} == {"train", "evaluate"}


def test_a_criterion_edit_changes_training_only(edit_source):
    before = _keys()
    edit_source("components.backtranslate.criterion", "def round_trip_criterion(", "def round_trip_criterion( ")
    after = _keys()
    assert {m for m in MODULES if after[m] != before[m]} == {"train"}
