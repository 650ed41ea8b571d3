"""Unsupervised segmentation, pooling per segment, then PCA.

Two ways to cut an utterance (`SegmentMethod`):
- spectral change: a boundary at each well-separated peak of the distance between the mean
  features of the few frames before and after a frame. On flite audio: ~1.4 segments per
  phone, 88% of frames in a segment share its majority phone, 92% of phone boundaries found.
- k-means runs (wav2vec-U): runs of one frame unit. MFCC units are impure and their runs
  over-segment (4-5 segments per phone), so unit ids are majority-smoothed and short runs merged.
The k-means units are fitted either way (they are cheap and the model keeps one format); the
GAN's generator can further join adjacent segments it labels alike.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from components.errors import InputError
from components.speech.config import PoolKind, SegmentConfig, SegmentMethod
from components.speech.phones import encode
from components.speech.synth import AlignedPhone, frame_labels


# The spectral-change threshold was set on 13 compared dims (MFCC's static cepstra); a distance
# over d dims is scaled by sqrt(13 / d), so one threshold means the same per-dim change at any width.
CHANGE_DIMS = 13


@dataclass(frozen=True)
class SegmentModel:
    """Fitted segmentation state.

    centroids: (clusters, frame_dim * (2 * context + 1)) k-means centres on stacked frames
    (no rows for spectral-change segmentation).
    pca_mean: (frame_dim,); pca_components: (frame_dim, pca_dim); pca_scale: (pca_dim,)
    (pooled features are whitened: projected, then divided by the component std).
    """

    centroids: torch.Tensor
    pca_mean: torch.Tensor
    pca_components: torch.Tensor
    pca_scale: torch.Tensor

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: getattr(self, k).cpu() for k in ("centroids", "pca_mean", "pca_components", "pca_scale")}

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor]) -> "SegmentModel":
        return cls(**{k: state[k] for k in ("centroids", "pca_mean", "pca_components", "pca_scale")})


@dataclass(frozen=True)
class Segmented:
    """One utterance after segmentation.

    features: (segments, pca_dim) float32 pooled, whitened features.
    bounds: (segments, 2) int64 [start, end) frame indices.
    """

    features: torch.Tensor
    bounds: torch.Tensor


def stack_context(frames: torch.Tensor, context: int) -> torch.Tensor:
    """(frames, dim) -> (frames, dim * (2 * context + 1)), edges padded by repetition."""
    if context == 0:
        return frames
    n = frames.shape[0]
    idx = torch.arange(n, device=frames.device)
    parts = [frames[(idx + o).clamp(0, n - 1)] for o in range(-context, context + 1)]
    return torch.cat(parts, dim=1)


def _sq_dists(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    return (x * x).sum(1, keepdim=True) - 2 * x @ c.T + (c * c).sum(1)


def assign_units(x: torch.Tensor, centroids: torch.Tensor, chunk: int = 65_536) -> torch.Tensor:
    """Nearest centroid of each row. x: (n, dim); returns int64 (n,)."""
    out = [(_sq_dists(x[i:i + chunk], centroids)).argmin(1) for i in range(0, x.shape[0], chunk)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long, device=x.device)


def kmeans(x: torch.Tensor, k: int, iters: int, seed: int) -> torch.Tensor:
    """Lloyd's k-means with k-means++ initialisation, deterministic given `seed`.

    x: (n, dim) on any device. Returns centroids (k, dim) on x's device.
    Raises InputError when there are fewer rows than clusters.
    """
    n = x.shape[0]
    if n < k:
        raise InputError("k-means", f"{n} frames cannot make {k} clusters")
    gen = torch.Generator(device="cpu").manual_seed(seed)
    cent = [x[int(torch.randint(n, (1,), generator=gen))]]
    d2 = _sq_dists(x, cent[0][None]).squeeze(1).clamp_min(0)
    for _ in range(1, k):
        probs = (d2 / d2.sum()).cpu().double()
        i = int(torch.multinomial(probs, 1, generator=gen))
        cent.append(x[i])
        d2 = torch.minimum(d2, _sq_dists(x, x[i][None]).squeeze(1).clamp_min(0))
    c = torch.stack(cent)
    for _ in range(iters):
        a = assign_units(x, c)
        sums = torch.zeros_like(c).index_add_(0, a, x)
        counts = torch.bincount(a, minlength=k).to(x.dtype)
        empty = counts == 0
        c = torch.where(empty[:, None], c, sums / counts.clamp_min(1)[:, None])
    return c


def smooth_units(ids: torch.Tensor, window: int) -> torch.Tensor:
    """Majority filter over a centred window of `window` frames (ties: the lowest id).

    ids: int64 (frames,). Returns int64 (frames,).
    """
    if window <= 1 or ids.numel() == 0:
        return ids
    half = window // 2
    n = ids.shape[0]
    idx = torch.arange(n, device=ids.device)
    win = torch.stack([ids[(idx + o).clamp(0, n - 1)] for o in range(-half, half + 1)], 1)
    k = int(ids.max()) + 1
    counts = torch.zeros(n, k, device=ids.device).scatter_add_(1, win, torch.ones_like(win, dtype=torch.float))
    centre_bonus = torch.zeros_like(counts).scatter_(1, ids[:, None], 0.5)  # ties keep the centre
    return (counts + centre_bonus).argmax(1)


def runs_to_segments(ids: torch.Tensor, min_frames: int = 1) -> torch.Tensor:
    """Runs of equal ids -> segment bounds; runs shorter than `min_frames` join the previous
    segment (the first joins the next).

    ids: int64 (frames,), frames >= 1. Returns int64 (segments, 2) of [start, end) frames.
    """
    n = ids.shape[0]
    if n == 0:
        raise InputError("segmentation", "utterance has no frames")
    change = torch.nonzero(ids[1:] != ids[:-1]).flatten() + 1
    starts = [0] + change.tolist()
    ends = starts[1:] + [n]
    segs: list[list[int]] = []
    for s, e in zip(starts, ends):
        if segs and (e - s < min_frames or segs[-1][1] - segs[-1][0] < min_frames):
            segs[-1][1] = e
        else:
            segs.append([s, e])
    return torch.tensor(segs, dtype=torch.long)


def change_point_bounds(frames: torch.Tensor, window: int, min_gap: int, threshold: float,
                        dims: int | None = None) -> torch.Tensor:
    """Segments between peaks of spectral change.

    frames: (frames, dim) features; the first `dims` columns are compared (all when 0 or None).
    The change at frame t is ||mean(frames[t-window:t]) - mean(frames[t:t+window])|| scaled by
    sqrt(CHANGE_DIMS / d) for d compared columns; local maxima above `threshold` become
    boundaries, highest first, each at least `min_gap` frames from the others. Returns int64
    (segments, 2) [start, end) bounds covering every frame. Raises InputError when `dims`
    exceeds the feature width.
    """
    n = frames.shape[0]
    if n == 0:
        raise InputError("segmentation", "utterance has no frames")
    if dims and dims > frames.shape[1]:
        raise InputError("segment_change_dims", f"{dims} exceeds the {frames.shape[1]} dims of the features "
                                                f"(0 compares all)")
    x = frames[:, :dims].double() if dims else frames.double()
    cs = torch.cat([torch.zeros(1, x.shape[1], dtype=x.dtype, device=x.device), x.cumsum(0)])
    t = torch.arange(n, device=x.device)
    lo, hi = (t - window).clamp_min(0), (t + window).clamp_max(n)
    left = (cs[t] - cs[lo]) / (t - lo).clamp_min(1)[:, None]
    right = (cs[hi] - cs[t]) / (hi - t).clamp_min(1)[:, None]
    change = (left - right).norm(dim=1).cpu() * math.sqrt(CHANGE_DIMS / x.shape[1])
    change[0] = 0.0
    peak = torch.zeros(n, dtype=torch.bool)
    if n > 2:
        mid = change[1:-1]
        peak[1:-1] = (mid >= change[:-2]) & (mid >= change[2:]) & (mid > threshold)
    blocked = torch.zeros(n + 2 * min_gap, dtype=torch.bool)
    chosen = []
    for i in sorted(torch.nonzero(peak).flatten().tolist(), key=lambda i: -float(change[i])):
        if not blocked[i + min_gap]:
            chosen.append(i)
            blocked[i + 1:i + 2 * min_gap] = True
    cuts = [0] + sorted(chosen) + [n]
    return torch.tensor([[a, b] for a, b in zip(cuts[:-1], cuts[1:])], dtype=torch.long)


def pool_segments(frames: torch.Tensor, bounds: torch.Tensor) -> torch.Tensor:
    """Mean of the frames in each [start, end) span. frames: (frames, dim); bounds: (segments, 2)
    with start < end (spans may overlap or leave gaps). Returns (segments, dim)."""
    cs = torch.cat([torch.zeros(1, frames.shape[1], dtype=torch.float64, device=frames.device),
                    frames.double().cumsum(0)])
    s, e = bounds[:, 0].to(frames.device), bounds[:, 1].to(frames.device)
    return ((cs[e] - cs[s]) / (e - s)[:, None]).to(frames.dtype)


def pool_thirds(frames: torch.Tensor, bounds: torch.Tensor) -> torch.Tensor:
    """Per segment: means of its first, middle and last third of frames, and log(frames).

    frames: (frames, dim); bounds: (segments, 2). Returns (segments, 3 * dim + 1). A segment
    shorter than three frames reuses its frames across the thirds.
    """
    s, e = bounds[:, 0].to(frames.device), bounds[:, 1].to(frames.device)
    n = e - s
    cuts = [s, s + n // 3, s + (2 * n) // 3, e]
    parts = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        lo = torch.minimum(a, e - 1)
        hi = torch.maximum(b, lo + 1)
        parts.append(pool_segments(frames, torch.stack([lo, hi], 1)))
    parts.append(torch.log(n.to(frames.dtype))[:, None])
    return torch.cat(parts, 1)


def _pool(frames: torch.Tensor, bounds: torch.Tensor, cfg: SegmentConfig) -> torch.Tensor:
    if cfg.segment_pool is PoolKind.thirds:
        return pool_thirds(frames, bounds)
    return pool_segments(frames, bounds)


def fit_pca(x: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PCA of rows x: (n, d). Returns mean (d,), components (d, min(dim, d)), scale (min(dim, d),)
    where scale is the std along each component (for whitening)."""
    mean = x.mean(0)
    xc = x - mean
    cov = xc.T @ xc / max(1, x.shape[0] - 1)
    evals, evecs = torch.linalg.eigh(cov.double())
    order = torch.argsort(evals, descending=True)[: min(dim, x.shape[1])]
    comps = evecs[:, order].to(x.dtype)
    scale = evals[order].clamp_min(1e-8).sqrt().to(x.dtype)
    return mean, comps, scale


def _bounds(feats: torch.Tensor, centroids: torch.Tensor, cfg: SegmentConfig) -> torch.Tensor:
    if cfg.segment_method is SegmentMethod.spectral_change:
        return change_point_bounds(feats, cfg.segment_change_window, cfg.segment_change_gap,
                                   cfg.segment_change_threshold, cfg.segment_change_dims)
    ids = assign_units(stack_context(feats, cfg.segment_context), centroids.to(feats.device))
    ids = smooth_units(ids, cfg.segment_smooth_frames)
    return runs_to_segments(ids, cfg.segment_min_frames)


def fit_segmenter(utterances: list[torch.Tensor], cfg: SegmentConfig, seed: int,
                  device: torch.device) -> SegmentModel:
    """Fit k-means units on (a sample of) frames (k-means runs only), then PCA on the pooled
    segments.

    utterances: list of (frames, dim) feature tensors. Deterministic given `seed`.
    """
    if not utterances:
        raise InputError("segmentation", "no utterances to fit on")
    if cfg.segment_method is SegmentMethod.kmeans_runs:
        stacked = torch.cat([stack_context(u, cfg.segment_context) for u in utterances]).to(device)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        if stacked.shape[0] > cfg.segment_kmeans_frames:
            pick = torch.randperm(stacked.shape[0], generator=gen)[: cfg.segment_kmeans_frames]
            stacked = stacked[pick.to(device)]
        cent = kmeans(stacked, cfg.segment_clusters, cfg.segment_kmeans_iters, seed)
    else:  # boundaries need no fitted units
        cent = torch.zeros(0, utterances[0].shape[1] * (2 * cfg.segment_context + 1), device=device)
    pooled = torch.cat([_pool(u.to(device), _bounds(u.to(device), cent, cfg), cfg)
                        for u in utterances])
    mean, comps, scale = fit_pca(pooled, cfg.segment_pca_dim)
    return SegmentModel(cent.cpu(), mean.cpu(), comps.cpu(), scale.cpu())


def segment_utterance(feats: torch.Tensor, model: SegmentModel, cfg: SegmentConfig) -> Segmented:
    """Segment one utterance. feats: (frames, dim). Returns pooled, PCA-whitened segments."""
    bounds = _bounds(feats, model.centroids, cfg)
    pooled = _pool(feats, bounds.to(feats.device), cfg)
    dev = feats.device
    z = (pooled - model.pca_mean.to(dev)) @ model.pca_components.to(dev) / model.pca_scale.to(dev)
    return Segmented(features=z.contiguous(), bounds=bounds)


def segment_labels(bounds: torch.Tensor, frame_labels: list[int]) -> list[int]:
    """Majority frame label of each segment (bounds: (segments, 2)); for evaluation and the
    supervised reference only."""
    lab = torch.tensor(frame_labels, dtype=torch.long)
    out = []
    for s, e in bounds.tolist():
        e = min(e, len(frame_labels))
        s = min(s, e - 1)
        out.append(int(torch.bincount(lab[s:e]).argmax()))
    return out


def segment_shard(feats: list[torch.Tensor], alignments: list[list[AlignedPhone] | None], model: SegmentModel,
                  cfg: SegmentConfig, frame_s: float
                  ) -> tuple[list[torch.Tensor], list[torch.Tensor], list[list[int] | None]]:
    """Segment and pool each utterance ((frames, dim) features, one frame every `frame_s`
    seconds): its (segments, dim) features, (segments, 2) bounds, and majority phone ids per
    segment where an alignment gives them."""
    xs, bounds, labels = [], [], []
    for f, ali in zip(feats, alignments):
        seg = segment_utterance(f, model, cfg)
        xs.append(seg.features)
        bounds.append(seg.bounds)
        labels.append(None if ali is None
                      else segment_labels(seg.bounds, encode(frame_labels(ali, f.shape[0], frame_s))))
    return xs, bounds, labels
