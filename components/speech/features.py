"""Frame features with torchaudio: MFCC or log-mel, optional deltas, per-utterance normalisation."""
from __future__ import annotations

import torch
import torchaudio

from components.errors import InputError
from components.speech.audio import SAMPLE_RATE
from components.speech.config import FeatureKind, FeaturesConfig


def feature_dim(cfg: FeaturesConfig) -> int:
    """Width of the frame features `extract_features` returns for `cfg`."""
    base = cfg.features_n_mfcc if cfg.features_kind is FeatureKind.mfcc else cfg.features_n_mels
    return base * (1 + cfg.features_deltas)


def _transform(cfg: FeaturesConfig, sample_rate: int) -> torch.nn.Module:
    n_fft = int(round(cfg.features_win_ms * sample_rate / 1000))
    hop = int(round(cfg.features_hop_ms * sample_rate / 1000))
    mel = dict(n_fft=n_fft, win_length=n_fft, hop_length=hop, n_mels=cfg.features_n_mels,
               center=True)
    if cfg.features_kind is FeatureKind.mfcc:
        return torchaudio.transforms.MFCC(sample_rate=sample_rate, n_mfcc=cfg.features_n_mfcc,
                                          log_mels=True, melkwargs=mel)
    return torchaudio.transforms.MelSpectrogram(sample_rate=sample_rate, **mel)


def extract_features(wave: torch.Tensor, cfg: FeaturesConfig,
                     sample_rate: int = SAMPLE_RATE, source: str = "waveform") -> torch.Tensor:
    """Frame features of one utterance.

    wave: (samples,) float mono at `sample_rate` Hz.
    Returns float32 (frames, feature_dim(cfg)), one frame per `features_hop_ms`
    (frames = samples // hop + 1). Raises InputError (naming `source`) for an empty wave or one
    shorter than one analysis window (no frame could be computed from it).
    """
    if wave.dim() != 1 or wave.numel() == 0:
        raise InputError(source, f"expected a non-empty mono waveform, got shape {tuple(wave.shape)}")
    window = int(round(cfg.features_win_ms * sample_rate / 1000))
    if wave.numel() < window:
        raise InputError(source, f"too short: {wave.numel()} samples ({1000 * wave.numel() / sample_rate:.1f} ms), "
                                 f"shorter than one {cfg.features_win_ms:g} ms analysis window")
    x = _transform(cfg, sample_rate).to(wave.device)(wave.float())  # (dim, frames)
    if cfg.features_kind is FeatureKind.logmel:
        x = torch.log(x + 1e-6)
    parts = [x]
    for _ in range(cfg.features_deltas):
        parts.append(torchaudio.functional.compute_deltas(parts[-1]))
    feats = torch.cat(parts, dim=0).T.contiguous()  # (frames, dim)
    if cfg.features_normalise:
        feats = (feats - feats.mean(0)) / (feats.std(0, unbiased=False) + 1e-5)
    return feats
