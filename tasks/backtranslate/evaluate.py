"""The model on the held-out parallel test verses: reporting only, never selection."""
from __future__ import annotations

import time
from typing import Any

from prefect import task

from components.backtranslate.bundle import load_bundle, translate_text
from components.backtranslate.catalog import ParallelTest
from components.backtranslate.metrics import examples, parallel_test_scores
from components.device import DeviceRequest
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.gpu import device_slot
from tasks.store import store


@task(name="evaluate-translation", task_run_name="evaluate-translation", cache_policy=STAGE_CACHE)
def evaluate_translation(model: ArtifactRef, test: ArtifactRef, beam: int, test_sentences: int | None,
                         device: DeviceRequest = "auto") -> dict[str, Any]:
    """BLEU and chrF of the model's beam search on the test verses, both directions: sacreBLEU on its
    detokenised output (when the test keeps its raw lines) and BLEU on tokens."""
    verses = ParallelTest.load(store().path(test), test_sentences)
    start = time.perf_counter()
    with device_slot(device) as dev:
        tm = load_bundle(store().path(model), dev)
        langs = tm.langs
        hyp_s2t = translate_text(tm, verses.src, 0, 1, beam=beam)
        hyp_t2s = translate_text(tm, verses.tgt, 1, 0, beam=beam)
    return {**parallel_test_scores(hyp_s2t, hyp_t2s, verses, langs), "beam": beam,
            "test_sentences": len(verses.src), "decode_seconds": round(time.perf_counter() - start, 1),
            "examples": examples(verses.src, hyp_s2t, verses.tgt)}
