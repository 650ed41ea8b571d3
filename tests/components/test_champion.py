"""Champion/challenger decisions and the registry that records them."""
import json

import pytest

from components.champion import Candidate, ChampionRegistry, decide
from components.errors import StoreError
from components.store import ArtifactRef


def _cand(sha: str, criterion: float, higher: bool = True) -> Candidate:
    return Candidate(slot="align-xa-xb", model=ArtifactRef(kind="alignment", sha256=sha, path=f"objects/{sha}"),
                     criterion=criterion, criterion_name="mean csls cosine", higher_is_better=higher)


def test_first_model_is_promoted_then_only_a_better_one():
    first = decide(None, _cand("a", 0.40))
    assert first.promoted and first.champion.model.sha256 == "a"
    worse = decide(first.champion, _cand("b", 0.39))
    assert not worse.promoted and worse.champion.model.sha256 == "a"
    same = decide(first.champion, _cand("a", 0.40))
    assert not same.promoted and "same model" in same.reason
    better = decide(first.champion, _cand("c", 0.45))
    assert better.promoted and better.champion.model.sha256 == "c" and better.previous.model.sha256 == "a"
    assert not decide(first.champion, _cand("d", 0.405), min_gain=0.01).promoted


def test_lower_is_better_criteria_promote_on_a_decrease():
    current = _cand("a", 30.0, higher=False)
    assert decide(current, _cand("b", 25.0, higher=False)).promoted
    assert not decide(current, _cand("c", 31.0, higher=False)).promoted


def test_incomparable_criteria_are_refused():
    other = _cand("b", 0.5).model_copy(update={"criterion_name": "round-trip bleu"})
    with pytest.raises(StoreError, match="criteria differ"):
        decide(_cand("a", 0.4), other)


def test_registry_keeps_the_champion_and_every_decision(tmp_path):
    registry = ChampionRegistry(tmp_path / "champions")
    assert registry.current("align-xa-xb") is None
    registry.record(decide(None, _cand("a", 0.4)))
    registry.record(decide(registry.current("align-xa-xb"), _cand("b", 0.3)))
    assert registry.current("align-xa-xb").model.sha256 == "a"
    history = [json.loads(line) for line in (tmp_path / "champions" / "history.jsonl").read_text().splitlines()]
    assert [h["promoted"] for h in history] == [True, False]
    assert [c.slot for c in registry.all()] == ["align-xa-xb"]
    assert not list((tmp_path / "champions").glob(".champion-*"))
    with pytest.raises(StoreError):
        registry.current("../escape")
