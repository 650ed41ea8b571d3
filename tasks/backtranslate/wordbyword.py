"""The baseline row: word-by-word translation of the test verses with the CSLS lexicon."""
from __future__ import annotations

from typing import Any

from prefect import task

from components.align.catalog import AlignedExport
from components.backtranslate.catalog import ParallelTest
from components.backtranslate.wordbyword import evaluate_word_by_word
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.store import store


@task(name="evaluate-word-by-word", task_run_name="evaluate-word-by-word", cache_policy=STAGE_CACHE)
def word_by_word(alignment: ArtifactRef, test: ArtifactRef, src_lang: str, tgt_lang: str, csls_k: int,
                 test_sentences: int | None) -> dict[str, Any]:
    """BLEU/chrF of each test token replaced by its CSLS translation (unknown tokens copied), both ways:
    sacreBLEU on the detokenised output (when the test keeps its raw lines) and BLEU on tokens."""
    aligned = AlignedExport.load(store().path(alignment), src_lang, tgt_lang)
    verses = ParallelTest.load(store().path(test), test_sentences)
    return evaluate_word_by_word((aligned.src, aligned.tgt), verses, csls_k, (src_lang, tgt_lang))
