"""The no-leak split of the built-in benchmark: held-out test books, and two training halves
drawn by a stable hash of the verse id (DESIGN.md s.5). Shared by the text and speech stages."""
from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, Field


class SplitConfig(BaseModel):
    """How verses are assigned to test, the two training halves, and validation."""

    model_config = ConfigDict(frozen=True)

    test_books: tuple[int, ...] = (40, 41, 42, 43)   # the Gospels: held out in every translation
    salt: str = "unpaired-split-v1"                  # changing it draws a different split
    valid_fraction: float = Field(0.01, ge=0, lt=0.5)  # held-out monolingual sentences per side


def stable_unit(key: str, salt: str) -> float:
    """A uniform number in [0, 1) fixed by (salt, key): the same on every machine and run."""
    digest = hashlib.sha256(f"{salt}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def verse_half(verse_id: str, salt: str) -> str:
    """'A' or 'B': which training half a verse belongs to."""
    return "A" if stable_unit(verse_id, salt) < 0.5 else "B"
