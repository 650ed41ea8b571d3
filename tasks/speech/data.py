"""Speech tasks: which audio is heard, the pretrained model behind ssl features, and the audio's
preparation into frame features (sharded)."""
from __future__ import annotations

from prefect import get_run_logger, task

from components.device import DeviceRequest
from components.sources import default_bible_db
from components.speech.catalog.encoder import Encoder
from components.speech.config import FeaturesConfig, SpeechDataConfig
from components.speech.corpus import Utterance, bible_speech_split, directory_utterances, read_transcripts
from components.speech.prepare import shard_features
from components.speech.ssl import load_checkpoint
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.gpu import device_slot
from tasks.store import store


@task(name="speech-utterances")
def speech_utterances(data: SpeechDataConfig) -> dict[str, list[Utterance]]:
    """The audio to prepare: {'train': [...], 'test': [...]} (built-in verses or the user's files)."""
    if data.audio_dir is None:
        train, test, _ = bible_speech_split(default_bible_db(), data.split, data.train_utterances,
                                            data.test_utterances, data.voices, data.min_words, data.max_words,
                                            data.text_sentences, data.seed)
        return {"train": train, "test": test}
    transcripts = read_transcripts(data.transcripts) if data.transcripts else {}
    train = directory_utterances(data.audio_dir, transcripts)
    test = directory_utterances(data.test_audio_dir, transcripts) if data.test_audio_dir else []
    return {"train": train, "test": test}


@task(name="import-encoder", cache_policy=STAGE_CACHE)
def import_encoder(features: FeaturesConfig, content_sha256: str) -> ArtifactRef:
    """The user's pretrained checkpoint (any supported format) as a `speech-encoder` artifact in
    the torchaudio format. `content_sha256` (of the file or directory) keys the cache on content,
    and the stored copy is what the stage and the packaged model use from then on."""
    encoder = load_checkpoint(features.features_checkpoint, features.features_format)
    layer = encoder.layer(features.features_layer)  # refused here when beyond the model
    meta = {"source": str(features.features_checkpoint), "format": features.features_format.value,
            "layers": encoder.layers, "layer": layer, "dim": encoder.dim, "stride": encoder.stride,
            "normalize_waveform": encoder.normalize_waveform}
    with store().writer("speech-encoder", "encoder", meta, directory=True) as out:
        Encoder(encoder).save(out.path)
    return out.ref


@task(name="prepare-audio", task_run_name="prepare-audio-{split}-{shard}", cache_policy=STAGE_CACHE)
def prepare_audio(utterances: list[Utterance], features: FeaturesConfig, split: str, shard: int,
                  encoder: ArtifactRef | None = None, device: DeviceRequest = "auto") -> ArtifactRef:
    """Synthesise (built-in) or read (user files) one shard, and extract frame features (ssl
    features: with the stored `encoder`, on a GPU when there is one).

    A file that cannot be used is named in the log and in the artifact's `problems`; the rest
    of the shard goes on.
    """
    log = get_run_logger()
    if encoder is None:
        audio, problems = shard_features(utterances, features)
    else:
        model = Encoder.load(store().path(encoder)).encoder
        with device_slot(device) as dev:
            audio, problems = shard_features(utterances, features, model, dev)
    for name, why in problems.items():
        log.warning(f"skipped {name}: {why}")
    meta = {"split": split, "shard": shard, "utterances": len(audio.ids), "problems": problems,
            "frames": sum(m["frames"] for m in audio.manifest),
            "aligned": bool(audio.manifest and audio.manifest[0]["aligned"])}
    with store().writer("speech-audio", f"audio-{split}-{shard}", meta, directory=True) as out:
        audio.save(out.path)
    return out.ref
