"""Frame features with torchaudio: MFCC or log-mel with optional deltas, or a layer of a pretrained
self-supervised model (components.speech.ssl); per-utterance normalisation."""
from __future__ import annotations

import torch
import torchaudio

from components.errors import InputError
from components.speech.audio import SAMPLE_RATE
from components.speech.config import FeatureKind, FeaturesConfig
from components.speech.ssl import SslEncoder, encode


def _needs_encoder(cfg: FeaturesConfig, encoder: SslEncoder | None) -> SslEncoder:
    if encoder is None:
        raise ValueError(f"features_kind 'ssl' needs the loaded encoder of {cfg.features_checkpoint}")
    return encoder


def feature_dim(cfg: FeaturesConfig, encoder: SslEncoder | None = None) -> int:
    """Width of the frame features `extract_features` returns for `cfg` (and `encoder`, for ssl)."""
    if cfg.features_kind is FeatureKind.ssl:
        return _needs_encoder(cfg, encoder).dim
    base = cfg.features_n_mfcc if cfg.features_kind is FeatureKind.mfcc else cfg.features_n_mels
    return base * (1 + cfg.features_deltas)


def frame_seconds(cfg: FeaturesConfig, encoder: SslEncoder | None = None) -> float:
    """Seconds between two frames: the hop, or the model's stride (0.02 s for wav2vec 2.0 / HuBERT)."""
    if cfg.features_kind is FeatureKind.ssl:
        return _needs_encoder(cfg, encoder).stride / SAMPLE_RATE
    return round(cfg.features_hop_ms * SAMPLE_RATE / 1000) / SAMPLE_RATE


def shortest_audio_s(cfg: FeaturesConfig, encoder: SslEncoder | None = None) -> float:
    """Seconds of audio one frame needs: the analysis window, or the model's receptive field."""
    if cfg.features_kind is FeatureKind.ssl:
        return _needs_encoder(cfg, encoder).receptive_field / SAMPLE_RATE
    return cfg.features_win_ms / 1000


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
                     sample_rate: int = SAMPLE_RATE, source: str = "waveform", encoder: SslEncoder | None = None,
                     device: torch.device | None = None) -> torch.Tensor:
    """Frame features of one utterance.

    wave: (samples,) float mono at `sample_rate` Hz.
    Returns float32 (frames, feature_dim(cfg, encoder)) on the CPU: for MFCC / log-mel one frame per
    `features_hop_ms` (frames = samples // hop + 1); for ssl the output of `encoder`'s layer
    `features_layer`, computed on `device` (CPU when None), one frame per `encoder.stride` samples
    at 16 kHz (frames = encoder.frames(samples)). Raises InputError (naming `source`) for an empty
    wave or one shorter than one analysis window or receptive field (no frame could be computed).
    """
    if cfg.features_kind is FeatureKind.ssl:
        if sample_rate != SAMPLE_RATE:  # the models were pretrained on 16 kHz audio only
            wave = torchaudio.functional.resample(wave, orig_freq=sample_rate, new_freq=SAMPLE_RATE)
        feats = encode(wave, _needs_encoder(cfg, encoder), cfg.features_layer, device or torch.device("cpu"),
                       cfg.features_chunk_s, source)
        return _normalise(feats) if cfg.features_normalise else feats
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
    return _normalise(feats) if cfg.features_normalise else feats


def _normalise(feats: torch.Tensor) -> torch.Tensor:
    """Per-utterance mean and variance normalisation of (frames, dim) features."""
    return (feats - feats.mean(0)) / (feats.std(0, unbiased=False) + 1e-5)
