"""Speech tasks: fit the unsupervised segmenter, then segment and pool each audio shard."""
from __future__ import annotations

import torch
from prefect import task

from components.errors import InputError
from components.speech.catalog.audio import AudioShard
from components.speech.catalog.segments import Segmenter, Segments
from components.speech.config import SegmentConfig
from components.speech.segment import fit_segmenter, segment_shard
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.store import store


@task(name="fit-segmenter", cache_policy=STAGE_CACHE)
def fit_segmentation(audio: list[ArtifactRef], segment: SegmentConfig, seed: int = 0) -> ArtifactRef:
    """Fit the unsupervised segmenter (k-means units when used, PCA) on the training audio."""
    feats = [f for ref in audio for f in AudioShard.load(store().path(ref)).feats]
    if not feats:
        raise InputError("training audio", "no usable utterance")
    model = fit_segmenter(feats, segment, seed, torch.device("cpu"))
    with store().writer("speech-segmenter", "segmenter", {"utterances": len(feats)}, directory=True) as out:
        Segmenter(model).save(out.path)
    return out.ref


@task(name="segment-audio", task_run_name="segment-{audio.meta[split]}-{audio.meta[shard]}", cache_policy=STAGE_CACHE)
def segment_audio(audio: ArtifactRef, segmenter: ArtifactRef, segment: SegmentConfig) -> ArtifactRef:
    """Segment and pool one shard; keep segment labels (for the supervised reference) and
    reference phones (for evaluation) where flite's alignment or a transcript gives them."""
    model = Segmenter.load(store().path(segmenter)).model
    shard = AudioShard.load(store().path(audio))
    alignments = shard.alignments()
    xs, bounds, labels = segment_shard(shard.feats, alignments, model, segment, shard.frame_s)
    segments = Segments(xs, bounds, labels, [m["id"] for m in shard.manifest],
                        [None if a is None else [p.phone for p in a] for a in alignments],
                        [m["text"] for m in shard.manifest])
    meta = {**audio.meta, "segments": sum(x.shape[0] for x in xs)}
    with store().writer("speech-segments", f"segments-{audio.meta['split']}-{audio.meta['shard']}", meta,
                        directory=True) as out:
        segments.save(out.path)
    return out.ref
