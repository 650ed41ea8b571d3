"""Speech task: the unpaired text, phonemised into the audio's phone set."""
from __future__ import annotations

from prefect import get_run_logger, task

from components.errors import InputError
from components.sources import default_bible_db
from components.speech.catalog.text import PhonemisedText
from components.speech.config import SpeechDataConfig
from components.speech.corpus import bible_speech_split, text_sentences
from components.speech.phones import Lexicon, phonemise
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.store import store


@task(name="prepare-text", cache_policy=STAGE_CACHE)
def prepare_text(data: SpeechDataConfig) -> ArtifactRef:
    """Phonemise the unpaired text (same phone set, pauses as flite places them) and keep its
    words, lexicon and a word list; sentences with no phonemisable word are counted and named."""
    if data.text_files:
        sentences = text_sentences(data.text_files)
    else:
        _, _, sentences = bible_speech_split(default_bible_db(), data.split, 0, 0, data.voices, data.min_words,
                                             data.max_words, data.text_sentences, data.seed)
    lexicon = Lexicon.from_cmudict()
    phones, words, dropped = phonemise(sentences, lexicon)
    if dropped:
        get_run_logger().warning(f"{len(dropped)} text sentences dropped, e.g. {dropped[:3]}")
    if not phones:
        raise InputError("unpaired text", f"none of {len(sentences)} sentences has a phonemisable word")
    restricted = lexicon.restricted(sorted({w for s in words for w in s}))
    meta = {"sentences": len(phones), "dropped": len(dropped), "phones": sum(map(len, phones)),
            "words": sum(map(len, words)), "vocabulary": len(restricted.entries)}
    with store().writer("speech-text", "text", meta, directory=True) as out:
        PhonemisedText(phones, words, restricted, dropped).save(out.path)
    return out.ref
