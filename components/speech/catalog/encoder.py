"""A pretrained self-supervised model imported from the user's checkpoint (ssl features).

    encoder.pt   the torchaudio checkpoint format of `components.speech.ssl` (weights_only loadable),
                 whatever format the user's checkpoint had
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.speech.config import CheckpointFormat
from components.speech.ssl import SslEncoder, load_checkpoint

FILE = "encoder.pt"


@dataclass
class Encoder:
    encoder: SslEncoder

    def save(self, directory: Path) -> None:
        self.encoder.save(Path(directory) / FILE)

    @staticmethod
    def file(directory: Path) -> Path:
        """The saved checkpoint itself (the packaged recogniser links to it)."""
        return Path(directory) / FILE

    @classmethod
    def load(cls, directory: Path) -> "Encoder":
        return cls(load_checkpoint(cls.file(directory), CheckpointFormat.torchaudio))
