"""Built-in speech corpus: 16 kHz mono speech synthesised with Debian's flite.

flite prints the phones it spoke with their end times (`-psdur`); they are the ground truth
for evaluation only and never reach unsupervised training.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from components.atomic import atomic_path
from components.errors import InputError
from components.speech.phones import normalise_phone

# flite voices that synthesise at 16 kHz (`kal` is 8 kHz and left out).
VOICES: tuple[str, ...] = ("kal16", "slt", "rms", "awb")


@dataclass(frozen=True)
class AlignedPhone:
    """One phone flite spoke: symbol in `PHONES`, start and end in seconds."""

    phone: str
    start: float
    end: float


def parse_psdur(output: str) -> list[AlignedPhone]:
    """Parse flite's `-psdur` output `pau:0.174 ih:0.294 ...` (phone:end-time in seconds).

    Raises InputError on a malformed item or times that go backwards.
    """
    phones: list[AlignedPhone] = []
    start = 0.0
    for item in output.split():
        sym, sep, end_s = item.rpartition(":")
        try:
            end = float(end_s)
        except ValueError:
            end = -1.0
        if not sep or end < start:
            raise InputError(item, "is not a flite phone:end-time item in time order")
        phones.append(AlignedPhone(normalise_phone(sym), start, end))
        start = end
    return phones


def synthesise(text: str, voice: str, out_path: Path) -> list[AlignedPhone]:
    """Speak `text` with flite `voice` into a 16 kHz mono WAV at `out_path`.

    Returns the time-aligned phones flite reports. Raises InputError for an unknown voice,
    a missing flite, or a failed synthesis (naming the text).
    """
    if voice not in VOICES:
        raise InputError(voice, f"is not a 16 kHz flite voice; choose from {', '.join(VOICES)}")
    with atomic_path(Path(out_path)) as tmp:  # a killed run never leaves a half-written WAV behind
        try:
            res = subprocess.run(["flite", "-voice", voice, "-psdur", "-t", text, "-o", str(tmp)],
                                 capture_output=True, text=True, timeout=120)
        except FileNotFoundError as e:
            raise InputError("flite", "flite is not installed (Debian package flite)") from e
        if res.returncode != 0 or not tmp.exists():
            raise InputError(text[:60], f"flite ({voice}) failed: {res.stderr.strip()[:200]}")
    return parse_psdur(res.stdout)


def frame_labels(phones: list[AlignedPhone], n_frames: int, hop_s: float = 0.01) -> list[str]:
    """Phone label of each feature frame (frame t centred near t * hop_s), length `n_frames`.

    Frames past the last aligned phone take the last phone's label.
    """
    if not phones:
        raise InputError("alignment", "is empty")
    labels: list[str] = []
    j = 0
    for t in range(n_frames):
        centre = (t + 0.5) * hop_s
        while j < len(phones) - 1 and phones[j].end <= centre:
            j += 1
        labels.append(phones[j].phone)
    return labels
