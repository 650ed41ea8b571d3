"""Champion/challenger: a retrained model replaces the current one only when its
unsupervised selection criterion is better.

The registry is a folder of small JSON files, one per model slot (e.g. `align-en-fr`),
each replaced atomically; every decision is appended to `history.jsonl`.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from components.atomic import write_text
from components.errors import StoreError
from components.store import ArtifactRef


class Candidate(BaseModel):
    """A model and the unsupervised criterion it was selected by."""

    model_config = ConfigDict(frozen=True)

    slot: str                     # which "current" model it competes for, e.g. 'align-en-fr'
    model: ArtifactRef
    criterion: float
    criterion_name: str           # what the number is, for the record
    higher_is_better: bool = True
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))


class Decision(BaseModel):
    """What a retraining run did with its challenger, and why."""

    slot: str
    promoted: bool
    reason: str
    champion: Candidate             # the current model after the decision
    challenger: Candidate
    previous: Candidate | None = None


def decide(current: Candidate | None, challenger: Candidate, min_gain: float = 0.0) -> Decision:
    """Promote `challenger` when there is no champion or its criterion beats the champion's
    by more than `min_gain` (in the criterion's own direction); keep the champion otherwise."""
    if current is None:
        return Decision(slot=challenger.slot, promoted=True, reason="no current model", champion=challenger,
                        challenger=challenger)
    if current.criterion_name != challenger.criterion_name:
        raise StoreError(f"{challenger.slot}: criteria differ ({current.criterion_name} vs "
                         f"{challenger.criterion_name}); the models cannot be compared")
    if challenger.model.sha256 == current.model.sha256:
        return Decision(slot=challenger.slot, promoted=False, reason="same model as the current one",
                        champion=current, challenger=challenger, previous=current)
    gain = challenger.criterion - current.criterion
    if not challenger.higher_is_better:
        gain = -gain
    if gain > min_gain:
        return Decision(slot=challenger.slot, promoted=True, champion=challenger, challenger=challenger,
                        previous=current, reason=f"criterion better by {gain:.4g}")
    return Decision(slot=challenger.slot, promoted=False, champion=current, challenger=challenger, previous=current,
                    reason=f"criterion not better ({challenger.criterion:.4g} vs {current.criterion:.4g})")


class ChampionRegistry:
    """The current model per slot, under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _file(self, slot: str) -> Path:
        if not slot or "/" in slot or "\\" in slot or slot.startswith("."):
            raise StoreError(f"{slot!r}: not a valid model slot name")
        return self.root / f"{slot}.json"

    def current(self, slot: str) -> Candidate | None:
        path = self._file(slot)
        if not path.is_file():
            return None
        try:
            return Candidate.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise StoreError(f"{path}: unreadable champion record: {e}") from e

    def record(self, decision: Decision) -> None:
        """Write the champion (atomically, when it changed) and append the decision to the history."""
        self.root.mkdir(parents=True, exist_ok=True)
        if decision.promoted:
            write_text(self._file(decision.slot), decision.champion.model_dump_json(indent=1))
        with (self.root / "history.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps({"at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                **decision.model_dump(mode="json")}) + "\n")

    def all(self) -> list[Candidate]:
        """Every slot's current model."""
        if not self.root.is_dir():
            return []
        return [Candidate.model_validate_json(p.read_text(encoding="utf-8")) for p in sorted(self.root.glob("*.json"))]
