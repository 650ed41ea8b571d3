"""Corpus tasks for a user's own embeddings and dictionary, so a later stage can run on them alone."""
from __future__ import annotations

from pathlib import Path

from prefect import task

from components.corpus import DictionaryConfig
from components.dictionary import save_split, split_dictionary
from components.embeddings import load_vocabulary, read_vec, save_vectors
from components.sources import read_dictionary_tsv
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.store import store


@task(name="import-vectors", task_run_name="import-vectors-{lang}", cache_policy=STAGE_CACHE)
def import_vectors(path: Path, lang: str, content_sha256: str) -> ArtifactRef:
    """A `.vec` file as a `vectors` artifact (its order taken as frequency order, counts unknown: 0)."""
    emb = read_vec(path)
    meta = {"lang": lang, "words": len(emb.words), "dim": emb.dim, "source": str(path)}
    with store().writer("vectors", f"vectors-{lang}", meta, directory=True) as out:
        save_vectors(emb, [0] * len(emb.words), out.path)
    return out.ref


@task(name="import-dictionary", cache_policy=STAGE_CACHE)
def import_dictionary(path: Path, src_vectors: ArtifactRef, tgt_vectors: ArtifactRef, config: DictionaryConfig,
                      content_sha256: str) -> ArtifactRef:
    """A `source<TAB>target` file as a `dictionary` artifact: pairs in both vocabularies, split by
    source word into seed and test parts as the built-in dictionary is."""
    st = store()
    parts = split_dictionary(read_dictionary_tsv(path), set(load_vocabulary(st.path(src_vectors))),
                             set(load_vocabulary(st.path(tgt_vectors))), config, str(path))
    meta = {"pair": f"{src_vectors.meta['lang']}-{tgt_vectors.meta['lang']}", "seed_pairs": len(parts.seed),
            "test_pairs": len(parts.test), "source": str(path)}
    with st.writer("dictionary", "dictionary", meta, directory=True) as out:
        save_split(parts, out.path)
    return out.ref
