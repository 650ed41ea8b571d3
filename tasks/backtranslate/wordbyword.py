"""The baseline rows: word-by-word translation of the test verses with the CSLS lexicon, plain and
searched with a target LM."""
from __future__ import annotations

from typing import Any

from prefect import task

from components.align.catalog import AlignedExport
from components.backtranslate.catalog import MonolingualCorpus, ParallelTest
from components.backtranslate.config import TranslateConfig
from components.backtranslate.lmwordbyword import evaluate_lm_word_by_word
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


@task(name="evaluate-lm-word-by-word", task_run_name="evaluate-lm-word-by-word", cache_policy=STAGE_CACHE)
def lm_word_by_word(alignment: ArtifactRef, test: ArtifactRef, src_corpus: ArtifactRef, tgt_corpus: ArtifactRef,
                    config: TranslateConfig, test_sentences: int | None) -> dict[str, Any]:
    """BLEU/chrF of the test translated word by word with top-k CSLS candidates, searched with the
    written language's n-gram LM (fitted on its monolingual training half) and local reordering."""
    langs = src_corpus.meta["lang"], tgt_corpus.meta["lang"]
    aligned = AlignedExport.load(store().path(alignment), *langs)
    train_lines = tuple(MonolingualCorpus.load(store().path(ref)).train for ref in (src_corpus, tgt_corpus))
    verses = ParallelTest.load(store().path(test), test_sentences)
    return evaluate_lm_word_by_word((aligned.src, aligned.tgt), train_lines, verses, config, langs)  # type: ignore[arg-type]
