"""Recurring retraining: re-run the stages (the cache skips those whose inputs did not
change) and promote each new model only when its unsupervised criterion beats the current one."""
from __future__ import annotations

from prefect import flow
from pydantic import BaseModel

from components.champion import Candidate, Decision
from components.corpus import CorpusConfig
from components import presets
from components.align.config import AlignStageConfig
from components.backtranslate.config import BacktranslateStageConfig
from components.presets import Preset
from components.speech.config import SpeechStageConfig
from flows.runner import task_runner
from flows.speech import speech as speech_flow
from flows.translation import translation_pipeline
from tasks.retrain import promote_if_better


class RetrainResult(BaseModel):
    pair: str
    decisions: list[Decision]


@flow(name="retrain", log_prints=True, task_runner=task_runner())
def retrain(pair: str = "en-fr", preset: Preset = Preset.quick, corpus: CorpusConfig | None = None,
            align: AlignStageConfig | None = None, translate: BacktranslateStageConfig | None = None,
            train_model: bool = True, speech: bool = True, speech_stage: SpeechStageConfig | None = None,
            min_gain: float = 0.0) -> RetrainResult:
    """Translation pipeline (and the speech pipeline), then champion/challenger per model.

    Slots: `align-<pair>` (the align preset's criterion, higher is better), `translate-<pair>` (round-trip
    BLEU on held-out monolingual sentences, higher), `speech-en` (phone-LM perplexity over
    phone usage, lower). `corpus`/`align`/`translate`/`speech_stage` override the preset.
    """
    result = translation_pipeline(pair, preset, corpus, align, translate, train_model)
    aligned = result.alignment
    challengers = [Candidate(slot=f"align-{result.corpus.pair}", model=aligned.exported,
                             criterion=aligned.selected.meta["criterion"],
                             criterion_name=aligned.criterion.name,
                             higher_is_better=aligned.criterion.higher_is_better)]
    if result.translation is not None:
        challengers.append(Candidate(slot=f"translate-{result.corpus.pair}", model=result.translation.model,
                                     criterion=result.translation.selected_row().criterion,
                                     criterion_name=result.translation.criterion.name,
                                     higher_is_better=result.translation.criterion.higher_is_better))
    if speech:
        recogniser = speech_flow(speech_stage or presets.preset(preset).speech)
        challengers.append(Candidate(slot="speech-en", model=recogniser.model,
                                     criterion=recogniser.selected_row().criterion,
                                     criterion_name=recogniser.criterion.name,
                                     higher_is_better=recogniser.criterion.higher_is_better))
    decisions = [promote_if_better(c, min_gain) for c in challengers]
    for d in decisions:
        print(f"{d.slot}: {'promoted' if d.promoted else 'kept'} ({d.reason})")
    return RetrainResult(pair=result.corpus.pair, decisions=decisions)
