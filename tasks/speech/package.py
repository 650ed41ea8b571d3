"""Speech task: the selected recogniser packaged with everything `transcribe` needs."""
from __future__ import annotations

from prefect import task

from components.speech.catalog.encoder import Encoder
from components.speech.catalog.recogniser import Recogniser
from components.speech.catalog.segments import Segmenter
from components.speech.catalog.text import PhonemisedText
from components.speech.config import SpeechConfig
from components.speech.decode import word_lm
from components.speech.model import SpeechModel
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.store import store


@task(name="package-speech-model", cache_policy=STAGE_CACHE)
def package_model(recogniser: ArtifactRef, segmenter: ArtifactRef, text: ArtifactRef,
                  config: SpeechConfig, encoder: ArtifactRef | None = None) -> ArtifactRef:
    """The selected recogniser, its front end (with the pretrained `encoder` of ssl features),
    phone set, lexicon and word LM as ONE artifact (what `transcribe` and `unpaired transcribe
    --model` take)."""
    phonemised = PhonemisedText.load(store().path(text))
    encoder_dir = store().path(encoder) if encoder is not None else None
    meta = {"origin": recogniser.meta["origin"], "criterion": recogniser.meta["criterion"]}
    model = SpeechModel(features=config.features, segment=config.segment,
                        segmenter=Segmenter.load(store().path(segmenter)).model, generator=config.gan.generator,
                        recogniser=Recogniser.load(store().path(recogniser)).trained, lexicon=phonemised.lexicon,
                        word_lm=word_lm(phonemised.words, config.lm), decode=config.decode, info=dict(meta))
    with store().writer("speech-model", "speech-model", meta, directory=True) as out:
        model.save(out.path, encoder_file=Encoder.file(encoder_dir) if encoder_dir else None)
    return out.ref
