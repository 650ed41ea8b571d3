"""Word-embedding mapping stage: align two monolingual spaces without (or with) a dictionary."""
from components.align.config import AlignConfig, InitMethod, Normalization, Preset, preset
from components.align.evaluate import EvaluationReport, evaluate_copy, evaluate_translation
from components.align.lexicon import induce_lexicon, read_dictionary, write_lexicon
from components.align.pipeline import (
    AlignResult,
    align,
    align_identical_strings,
    align_supervised,
    evaluate_result,
    select_best,
)
from components.align.state import HistoryPoint, LinearMaps, Progress, Stage

__all__ = [
    "AlignConfig",
    "AlignResult",
    "EvaluationReport",
    "HistoryPoint",
    "InitMethod",
    "LinearMaps",
    "Normalization",
    "Preset",
    "Progress",
    "Stage",
    "align",
    "align_identical_strings",
    "align_supervised",
    "evaluate_copy",
    "evaluate_result",
    "evaluate_translation",
    "induce_lexicon",
    "preset",
    "read_dictionary",
    "select_best",
    "write_lexicon",
]
