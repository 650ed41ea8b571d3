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
from components.style.evaluate import LM_WORD_BY_WORD, MODEL, StyleJudges, anchor_rows, score_transfer
from components.style.classifier import StyleClassifier
from tasks.cache import STAGE_CACHE
from tasks.gpu import device_slot
from tasks.store import store

STYLE_LM_ORDER = 3  # ~1M training tokens a style support little more (as the LM word by word)


def _judges(corpora: list[MonolingualCorpus], classifier: ArtifactRef) -> StyleJudges:
    lms = tuple(NgramLM.fit((line.split() for line in c.train), STYLE_LM_ORDER) for c in corpora)
    return StyleJudges(StyleClassifier.load(store().path(classifier)), tuple(classifier.meta["styles"]),
                       lms)  # type: ignore[arg-type]


@task(name="evaluate-style-transfer", task_run_name="evaluate-style-transfer", cache_policy=STAGE_CACHE)
def evaluate_style(model: ArtifactRef, test: ArtifactRef, src_corpus: ArtifactRef, tgt_corpus: ArtifactRef,
                   classifier: ArtifactRef, alignment: ArtifactRef, config: TranslateConfig, beam: int,
                   test_sentences: int | None, device: DeviceRequest = "auto") -> dict[str, Any]:
    """Rows of the test verses (copy, references, the LM-searched word by word that the model's
    warm-up may learn from, the model), and the model's unsupervised scores on each style's
    held-out lines (what selection may read: no reference is involved)."""
    corpora = [MonolingualCorpus.load(store().path(ref)) for ref in (src_corpus, tgt_corpus)]
    judges = _judges(corpora, classifier)
    verses = ParallelTest.load(store().path(test), test_sentences)
    valid = [c.valid for c in corpora]
    lang = src_corpus.meta["lang"]
    aligned = AlignedExport.load(store().path(alignment), lang, lang)
    searches = lm_searches((aligned.src, aligned.tgt), (corpora[0].train, corpora[1].train), config)
    start = time.perf_counter()
    with device_slot(device) as dev:
        tm = load_bundle(store().path(model), dev)
        hyp_s2t, hyp_t2s = (translate_text(tm, lines, s, 1 - s, beam=beam) for s, lines in enumerate(
            (verses.src, verses.tgt)))
        valid_s2t, valid_t2s = (translate_text(tm, lines, s, 1 - s, beam=beam) for s, lines in enumerate(valid))
    rows = anchor_rows(verses, lang, judges)
    rows[LM_WORD_BY_WORD] = score_transfer(searches[0].translate(verses.src), searches[1].translate(verses.tgt),
                                           verses, lang, judges)
    rows[MODEL] = score_transfer(hyp_s2t, hyp_t2s, verses, lang, judges)
    unsupervised = {f"{k}_{d}": v for d, outputs, inputs, to in (("s2t", valid_s2t, valid[0], 1),
                                                                  ("t2s", valid_t2s, valid[1], 0))
                    for k, v in judges.judge(outputs, inputs, to).items()}
    return {"rows": rows, "valid": unsupervised, "beam": beam, "test_sentences": len(verses.src),
            "decode_seconds": round(time.perf_counter() - start, 1),
            "examples": list(zip(verses.src[:3], hyp_s2t[:3], verses.tgt[:3]))}
