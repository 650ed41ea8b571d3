"""Phonemised unpaired text: phone ids and words per sentence, and the words' lexicon.

    text.json    {'phones': [[phone id]], 'words': [[word]], 'dropped': [why, per dropped sentence]}
    lexicon.tsv  pronunciations of the text's words (`components.speech.phones.write_lexicon`)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from components.speech.phones import Lexicon, read_lexicon, write_lexicon


@dataclass
class PhonemisedText:
    phones: list[list[int]]
    words: list[list[str]]
    lexicon: Lexicon
    dropped: list[str] = field(default_factory=list)

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        (directory / "text.json").write_text(json.dumps({"phones": self.phones, "words": self.words,
                                                         "dropped": self.dropped}), encoding="utf-8")
        write_lexicon(self.lexicon, directory / "lexicon.tsv")

    @classmethod
    def load(cls, directory: Path) -> "PhonemisedText":
        directory = Path(directory)
        d = json.loads((directory / "text.json").read_text(encoding="utf-8"))
        return cls(d["phones"], d["words"], read_lexicon(directory / "lexicon.tsv"), d["dropped"])
