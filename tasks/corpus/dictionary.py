"""Corpus task: the evaluation dictionary, split into seed and test parts."""
from __future__ import annotations

from prefect import task

from components.corpus import CorpusConfig
from components.dictionary import collect_pairs, identity_pairs, save_split, split_dictionary
from components.embeddings import load_vocabulary
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.store import store


@task(name="build-dictionary", task_run_name="build-dictionary", cache_policy=STAGE_CACHE)
def build_dictionary(config: CorpusConfig, src_vectors: ArtifactRef, tgt_vectors: ArtifactRef,
                     fingerprint: str) -> ArtifactRef:
    """Dictionary pairs in both vocabularies, split by source word into seed and test parts."""
    src_vocab, tgt_vocab = (set(load_vocabulary(store().path(ref))) for ref in (src_vectors, tgt_vectors))
    if config.src.lang == config.tgt.lang and not config.dictionary.files:  # two styles of one language
        pairs, source = identity_pairs(src_vocab, tgt_vocab), f"identity ({config.src.lang}, both sides)"
    else:
        pairs = collect_pairs(config.src.lang, config.tgt.lang, config.dictionary, config.text.lowercase)
        source = ", ".join(map(str, config.dictionary.files)) or f"FreeDict {config.pair}"
    parts = split_dictionary(pairs, src_vocab, tgt_vocab, config.dictionary, source)
    meta = {"pair": config.pair, "seed_pairs": len(parts.seed), "test_pairs": len(parts.test),
            "seed_words": len({s for s, _ in parts.seed}), "test_words": len({s for s, _ in parts.test}),
            "pairs": parts.pairs, "src_words": parts.src_words, "src_covered": parts.src_covered,
            "tgt_words": parts.tgt_words, "tgt_covered": parts.tgt_covered}
    with store().writer("dictionary", f"dictionary-{config.pair}", meta, directory=True) as out:
        save_split(parts, out.path)
    return out.ref
