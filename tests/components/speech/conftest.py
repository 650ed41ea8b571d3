"""Shared tiny fixtures for the speech component tests: a few flite utterances."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from components.speech.synth import synthesise

SENTENCES = [
    ("In the beginning God created the heaven and the earth.", "rms"),
    ("And God said, Let there be light: and there was light.", "slt"),
    ("And the evening and the morning were the first day.", "kal16"),
]


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """The tests share small CPUs: one torch thread avoids oversubscription."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def flite_corpus(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, list, str]]:
    """Three synthesised utterances: (wav path, aligned phones, text)."""
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    root = tmp_path_factory.mktemp("flite")
    out = []
    for i, (text, voice) in enumerate(SENTENCES):
        wav = root / f"{i}_{voice}.wav"
        out.append((wav, synthesise(text, voice, wav), text))
    return out
