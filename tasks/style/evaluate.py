"""Style transfer on the held-out test (reporting only) and on held-out monolingual lines (unsupervised)."""
from __future__ import annotations

import time
from typing import Any

from prefect import task

from components.align.catalog import AlignedExport
from components.backtranslate.bundle import load_bundle, translate_text
from components.backtranslate.catalog import MonolingualCorpus, ParallelTest
from components.backtranslate.config import TranslateConfig
from components.backtranslate.lmwordbyword import lm_searches
from components.device import DeviceRequest
from components.speech.lm import NgramLM
from components.store import ArtifactRef
from components.style.classifier import StyleClassifier
from components.style.evaluate import LM_WORD_BY_WORD, StyleJudges, anchor_rows, score_transfer
from tasks.cache import STAGE_CACHE
from tasks.gpu import device_slot
from tasks.store import store

STYLE_LM_ORDER = 3  # ~1M training tokens a style support little more (as the LM word by word)


def _corpora(src_corpus: ArtifactRef, tgt_corpus: ArtifactRef) -> list[MonolingualCorpus]:
    return [MonolingualCorpus.load(store().path(ref)) for ref in (src_corpus, tgt_corpus)]


def _judges(corpora: list[MonolingualCorpus], classifier: ArtifactRef) -> StyleJudges:
    lms = tuple(NgramLM.fit((line.split() for line in c.train), STYLE_LM_ORDER) for c in corpora)
    return StyleJudges(StyleClassifier.load(store().path(classifier)), tuple(classifier.meta["styles"]),
                       lms)  # type: ignore[arg-type]


@task(name="evaluate-style-baselines", task_run_name="evaluate-style-baselines", cache_policy=STAGE_CACHE)
def evaluate_style_baselines(test: ArtifactRef, src_corpus: ArtifactRef, tgt_corpus: ArtifactRef,
                             classifier: ArtifactRef, alignment: ArtifactRef, config: TranslateConfig,
                             test_sentences: int | None) -> dict[str, dict[str, Any]]:
    """The rows every model is read against, on the test: copying the input, the references as output,
    and the LM-searched word by word (the first translator the warm-up round may learn from)."""
    corpora = _corpora(src_corpus, tgt_corpus)
    judges = _judges(corpora, classifier)
    verses = ParallelTest.load(store().path(test), test_sentences)
    lang = src_corpus.meta["lang"]
    aligned = AlignedExport.load(store().path(alignment), lang, lang)
    searches = lm_searches((aligned.src, aligned.tgt), (corpora[0].train, corpora[1].train), config)
    rows = anchor_rows(verses, lang, judges)
    rows[LM_WORD_BY_WORD] = score_transfer(searches[0].translate(verses.src), searches[1].translate(verses.tgt),
                                           verses, lang, judges)
    return rows


@task(name="evaluate-style-transfer", task_run_name="evaluate-style-transfer", cache_policy=STAGE_CACHE)
def evaluate_style(model: ArtifactRef, test: ArtifactRef, src_corpus: ArtifactRef, tgt_corpus: ArtifactRef,
                   classifier: ArtifactRef, beam: int, test_sentences: int | None,
                   device: DeviceRequest = "auto") -> dict[str, Any]:
    """One model: its row on the test verses, and its unsupervised scores on each style's held-out
    lines (what selection may read: no reference is involved)."""
    corpora = _corpora(src_corpus, tgt_corpus)
    judges = _judges(corpora, classifier)
    verses = ParallelTest.load(store().path(test), test_sentences)
    valid = [c.valid for c in corpora]
    start = time.perf_counter()
    with device_slot(device) as dev:
        tm = load_bundle(store().path(model), dev)
        hyp_s2t, hyp_t2s = (translate_text(tm, lines, s, 1 - s, beam=beam) for s, lines in enumerate(
            (verses.src, verses.tgt)))
        valid_s2t, valid_t2s = (translate_text(tm, lines, s, 1 - s, beam=beam) for s, lines in enumerate(valid))
    unsupervised = {f"{k}_{d}": v for d, outputs, inputs, to in (("s2t", valid_s2t, valid[0], 1),
                                                                  ("t2s", valid_t2s, valid[1], 0))
                    for k, v in judges.judge(outputs, inputs, to).items()}
    return {"row": score_transfer(hyp_s2t, hyp_t2s, verses, src_corpus.meta["lang"], judges),
            "valid": unsupervised, "round_trip_bleu": model.meta["round_trip_bleu"], "beam": beam,
            "test_sentences": len(verses.src), "decode_seconds": round(time.perf_counter() - start, 1),
            "examples": list(zip(verses.src[:3], hyp_s2t[:3], verses.tgt[:3]))}
