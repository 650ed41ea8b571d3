"""Speech tasks: score a recogniser, the trivial baseline and chance on the test utterances
(PER, and WER after decoding to words). Reporting only: nothing selects by these numbers."""
from __future__ import annotations

from functools import partial

import torch
from prefect import task

from components.speech.catalog.recogniser import Recogniser
from components.speech.catalog.segments import Segments
from components.speech.catalog.text import PhonemisedText
from components.speech.config import SpeechConfig
from components.speech.criterion import phone_lm, weighted_lm_ppl
from components.speech.decode import decode_sentences, word_lm
from components.speech.evaluate import Evaluation, score_phones
from components.speech.gan import transcribe
from components.speech.metrics import reference_phones
from components.speech.phones import decode_ids, strip_silence
from components.speech.supervised import most_frequent_phone_baseline, random_text_baseline
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.store import store


def _load(test: list[ArtifactRef], text: ArtifactRef) -> tuple[Segments, PhonemisedText]:
    return Segments.read([store().path(r) for r in test]), PhonemisedText.load(store().path(text))


def _score(hyps: list[list[str]], seg: Segments, text: PhonemisedText, config: SpeechConfig,
           decode: bool) -> Evaluation:
    refs = reference_phones(seg.phones, seg.texts, text.lexicon)
    decoder = (partial(decode_sentences, lexicon=text.lexicon, lm=word_lm(text.words, config.lm), cfg=config.decode)
               if decode else None)
    return score_phones(hyps, refs, seg.texts, decoder)


@task(name="evaluate-recogniser", task_run_name="evaluate-{model.meta[origin]}", cache_policy=STAGE_CACHE)
def evaluate_recogniser(model: ArtifactRef, test: list[ArtifactRef], text: ArtifactRef, config: SpeechConfig,
                        decode: bool = True) -> Evaluation:
    """PER on the test utterances and, with `decode`, WER after decoding to words."""
    seg, phonemised = _load(test, text)
    g = Recogniser.load(store().path(model)).trained.generator(config.gan.generator, torch.device("cpu"))
    hyps = [decode_ids(h) for h in transcribe(g, seg.x, torch.device("cpu"))]
    return _score(hyps, seg, phonemised, config, decode)


@task(name="evaluate-baseline", cache_policy=STAGE_CACHE)
def evaluate_baseline(test: list[ArtifactRef], text: ArtifactRef, config: SpeechConfig,
                      decode: bool = True) -> Evaluation:
    """The trivial row: the text's most frequent phone, once per utterance."""
    seg, phonemised = _load(test, text)
    out = most_frequent_phone_baseline(phonemised.phones, len(seg.x))
    ev = _score([decode_ids(h) for h in out], seg, phonemised, config, decode)
    ev.criterion = weighted_lm_ppl(out, phone_lm(phonemised.phones, config.lm))
    return ev


@task(name="evaluate-chance", cache_policy=STAGE_CACHE)
def evaluate_chance(test: list[ArtifactRef], text: ArtifactRef, config: SpeechConfig) -> Evaluation | None:
    """Chance row: random stretches of the unpaired text as long as each reference (so PER
    shows what text-like output that ignores the audio scores). None without references."""
    seg, phonemised = _load(test, text)
    refs = reference_phones(seg.phones, seg.texts, phonemised.lexicon)
    if refs is None:
        return None
    out = random_text_baseline(phonemised.phones, [len(strip_silence(r)) for r in refs])
    ev = _score([decode_ids(h) for h in out], seg, phonemised, config, False)
    ev.criterion = weighted_lm_ppl(out, phone_lm(phonemised.phones, config.lm))
    return ev
