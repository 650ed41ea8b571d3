"""Typed errors: every failure names the input that caused it."""
from __future__ import annotations


class UnpairedError(Exception):
    """Base class for errors the pipelines raise on purpose."""


class InputError(UnpairedError, ValueError):
    """A user-supplied input (file, setting, language, ...) is unusable.

    `source` names the offending input so the message points at what to fix.
    """

    def __init__(self, source: object, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class StoreError(UnpairedError):
    """The artifact store was asked for something it cannot hold or find."""
