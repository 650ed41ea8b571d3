"""Typed stage results: rows with a kind, a criterion that declares its direction, and one
rendering for the Prefect artifacts, the terminal table and the benchmark report."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from components.plots import markdown_image

T = TypeVar("T")


class RowKind(str, Enum):
    """What a result row is, so code never finds rows by their display name."""

    UNSUPERVISED = "unsupervised"  # a run the unsupervised criterion chooses among
    SELF_TRAINED = "self-trained"  # retrained on an unsupervised model's own labels
    SUPERVISED = "supervised"      # trained on labels or the seed dictionary: a reference
    REFERENCE = "reference"        # another reference that sees no labels (identical strings)
    BASELINE = "baseline"          # what a trivial system scores (copy, word by word, most frequent)
    CHANCE = "chance"              # output that ignores the input


class Criterion(BaseModel):
    """An unsupervised selection criterion; the direction is declared here and nowhere else."""

    model_config = ConfigDict(frozen=True)

    name: str
    higher_is_better: bool

    def better(self, a: float, b: float) -> bool:
        """Whether score `a` beats score `b`."""
        return a > b if self.higher_is_better else a < b

    def best(self, items: Iterable[T], score: Callable[[T], float]) -> T:
        """The item with the best score (the first of equals)."""
        items = list(items)
        if not items:
            raise ValueError(f"nothing to select by {self.name}")
        best = items[0]
        for item in items[1:]:
            if self.better(score(item), score(best)):
                best = item
        return best

    @property
    def worst(self) -> float:
        """A value every measured one beats (where a selection starts)."""
        return -math.inf if self.higher_is_better else math.inf

    @property
    def superlative(self) -> str:
        """How a report says the winner's score: 'highest' or 'lowest'."""
        return "highest" if self.higher_is_better else "lowest"


class Row(BaseModel):
    """One system of a stage's result."""

    name: str
    kind: RowKind
    metrics: dict[str, Any] = Field(default_factory=dict)  # fractions stay fractions here
    criterion: float | None = None
    selected: bool = False


class Column(BaseModel):
    """How one metric is shown: `percent` multiplies a fraction by 100."""

    key: str
    header: str
    percent: bool = False
    digits: int = 2
    terminal: bool = True   # also in the narrower terminal table


class StageReport(BaseModel):
    """Rows, columns and notes of a stage, rendered the same way for every reader."""

    key: str                                    # the Prefect artifact key, e.g. alignment-en-fr
    title: str
    columns: list[Column]
    rows: list[Row]
    notes: list[str] = Field(default_factory=list)   # markdown paragraphs
    plots: dict[str, str] = Field(default_factory=dict)  # name -> PNG path

    def selected(self) -> Row | None:
        return next((r for r in self.rows if r.selected), None)

    def table(self, terminal: bool = False) -> list[dict[str, Any]]:
        """One dict per row, display values: every column for the UI, `terminal` ones for a terminal."""
        out = []
        for r in self.rows:
            row: dict[str, Any] = {"system": r.name} if terminal else {"system": r.name, "kind": r.kind.value}
            for c in self.columns:
                if c.terminal or not terminal:
                    row[c.header] = _display(r.metrics.get(c.key), c)
            row["criterion"] = "" if r.criterion is None else f"{r.criterion:.4g}"
            row["selected"] = "yes" if r.selected else ""
            out.append(row)
        return out

    def markdown(self, embed_plots: bool = True) -> str:
        """Title, notes, the table and the plots: embedded with where each file is (for the UI), or
        only where each file is (for a log or a terminal)."""
        table = self.table()
        lines = [f"# {self.title}", ""]
        for note in self.notes:
            lines += [note, ""]
        if table:
            header = list(table[0])
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(str(row[h]) for h in header) + " |" for row in table]
            lines.append("")
        for name, path in self.plots.items():
            lines += [markdown_image(name, path) if embed_plots else f"{name}: `{path}`", ""]
        return "\n".join(lines)


def _display(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{100 * value if column.percent else value:.{column.digits}f}"
    return str(value)

