"""The speech pipeline: audio and phonemised text corpora -> phone GAN -> words, by preset."""
from __future__ import annotations

from prefect import flow

from flows.presets import Preset
from flows.runner import task_runner
from flows.speech import SpeechStageConfig, SpeechStageResult, speech


def speech_config(preset: Preset = Preset.quick) -> SpeechStageConfig:
    """The speech stage's settings for the preset."""
    return SpeechStageConfig.quick() if Preset(preset) == Preset.quick else SpeechStageConfig.full()


@flow(name="speech-pipeline", log_prints=True, task_runner=task_runner())
def speech_pipeline(preset: Preset = Preset.quick, config: SpeechStageConfig | None = None,
                    refresh: bool = False) -> SpeechStageResult:
    """The built-in English speech benchmark with the preset's settings (`config` overrides them)."""
    return speech(config or speech_config(preset), refresh=refresh)
