"""Reading audio files: WAV/FLAC at any rate and channel count -> 16 kHz mono float32."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import torch
import torchaudio

from components.errors import InputError

SAMPLE_RATE = 16_000  # Hz, the rate every feature extractor here expects
SILENCE_PEAK = 1e-4  # a file whose peak |amplitude| is below this (full scale 1.0) is silent


def read_audio(path: Path | str, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Decode a WAV/FLAC file, downmix to mono and resample.

    Returns a float32 tensor of shape (samples,) in [-1, 1] at `sample_rate` Hz.
    Raises InputError naming the file when it is missing, cannot be decoded, holds no
    samples, or is silent.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such audio file")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # libsndfile raises its own error types for corrupt files
        raise InputError(path, f"cannot be decoded as audio ({e})") from e
    if data.shape[0] == 0:
        raise InputError(path, "contains no audio samples")
    mono = torch.from_numpy(np.ascontiguousarray(data.mean(axis=1)))
    if float(mono.abs().max()) < SILENCE_PEAK:
        raise InputError(path, "is silent (peak amplitude below 1e-4)")
    if rate != sample_rate:
        mono = torchaudio.functional.resample(mono, orig_freq=int(rate), new_freq=sample_rate)
    return mono.contiguous()


def write_wav(path: Path | str, wave: torch.Tensor, sample_rate: int = SAMPLE_RATE) -> None:
    """Write a (samples,) or (samples, channels) float tensor as 16-bit PCM WAV."""
    soundfile.write(str(path), wave.detach().cpu().numpy(), sample_rate, subtype="PCM_16")


def read_audio_batch(paths: list[Path | str], sample_rate: int = SAMPLE_RATE
                     ) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read many files; a bad file does not stop the batch.

    Returns (waves by path, problems by path): every path lands in exactly one of the two,
    the problem being the InputError message that names the file.
    """
    waves: dict[str, torch.Tensor] = {}
    problems: dict[str, str] = {}
    for p in paths:
        try:
            waves[str(p)] = read_audio(p, sample_rate)
        except InputError as e:
            problems[str(p)] = str(e)
    return waves, problems
