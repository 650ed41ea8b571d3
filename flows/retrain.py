"""Recurring retraining: re-run the stages (the cache skips those whose inputs did not
change) and promote each new model only when its unsupervised criterion beats the current one."""
from __future__ import annotations

from prefect import flow
from pydantic import BaseModel

from components.champion import Candidate, Decision
from components.corpus import CorpusConfig
from flows.align import AlignStageConfig, align_embeddings
from flows.corpus import prepare_corpus
from flows.presets import Preset, align_config, corpus_config
from flows.runner import task_runner
from tasks.retrain import promote_if_better


class RetrainResult(BaseModel):
    pair: str
    decisions: list[Decision]


@flow(name="retrain", log_prints=True, task_runner=task_runner())
def retrain(pair: str = "en-fr", preset: Preset = Preset.quick, corpus: CorpusConfig | None = None,
            align: AlignStageConfig | None = None, min_gain: float = 0.0) -> RetrainResult:
    """Corpus -> alignment (-> later stages); champion/challenger per model.

    `corpus` and `align` override the preset's configurations (your own files, other settings).
    """
    corpus_cfg = corpus or corpus_config(pair, preset)
    prepared = prepare_corpus(corpus_cfg)
    aligned = align_embeddings(prepared.src_vectors, prepared.tgt_vectors, prepared.dictionary,
                               align or align_config(preset))
    challengers = [Candidate(slot=f"align-{prepared.pair}", model=aligned.exported,
                             criterion=aligned.selected.meta["criterion"],
                             criterion_name="mean CSLS cosine of the most frequent source words' translations")]
    decisions = [promote_if_better(c, min_gain) for c in challengers]
    for d in decisions:
        print(f"{d.slot}: {'promoted' if d.promoted else 'kept'} ({d.reason})")
    return RetrainResult(pair=prepared.pair, decisions=decisions)
