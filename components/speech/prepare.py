"""Audio preparation of one shard: synthesise (built-in verses) or read (the user's files) each
utterance and extract its frame features, keeping flite's phone alignment where there is one."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import torch

from components.errors import InputError
from components.speech.audio import read_audio
from components.speech.catalog.audio import AudioShard
from components.speech.config import FeaturesConfig
from components.speech.corpus import Utterance
from components.speech.features import extract_features, frame_seconds
from components.speech.ssl import SslEncoder
from components.speech.synth import AlignedPhone, synthesise


def shard_features(utterances: Sequence[Utterance], features: FeaturesConfig, encoder: SslEncoder | None = None,
                   device: torch.device | None = None) -> tuple[AudioShard, dict[str, str]]:
    """The shard's usable utterances as features (float32, (frames, dim) each) and, for each
    one that cannot be used, its id -> why (the rest of the shard goes on).

    encoder: the pretrained model for ssl features, run on `device` (CPU when None).
    """
    shard, problems = AudioShard(frame_s=frame_seconds(features, encoder)), {}
    with tempfile.TemporaryDirectory(prefix="speech-") as tmp:
        for u in utterances:
            try:
                aligned: list[AlignedPhone] = []
                if u.path is None:
                    wav = Path(tmp) / "utterance.wav"
                    aligned = synthesise(u.text, u.voice, wav)
                    wave = read_audio(wav)
                else:
                    wave = read_audio(u.path)
                f = extract_features(wave, features, source=u.path or u.id, encoder=encoder, device=device)
            except InputError as e:
                problems[u.id] = str(e)
                continue
            shard.ids.append(u.id)
            shard.feats.append(f.to(torch.float32))
            shard.manifest.append({"id": u.id, "text": u.text, "voice": u.voice, "path": u.path,
                                   "frames": f.shape[0], "aligned": [[a.phone, a.start, a.end] for a in aligned]})
    return shard, problems
