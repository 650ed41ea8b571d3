"""Corpus tasks: fastText embeddings of one side, and how alike the two sides' spaces are."""
from __future__ import annotations

import os

from prefect import get_run_logger, task

from components.align.isomorphism import eigenvector_similarity, relational_similarity
from components.dictionary import load_part
from components.embeddings import EmbeddingConfig, load_vectors, save_vectors, train_fasttext
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.progress import Progress
from tasks.store import store


@task(name="train-embeddings", task_run_name="train-embeddings-{corpus.meta[lang]}", cache_policy=STAGE_CACHE)
def train_embeddings(corpus: ArtifactRef, config: EmbeddingConfig) -> ArtifactRef:
    """fastText skipgram vectors of a corpus side, as `vectors.vec` plus `vocab.tsv` counts."""
    st, lang = store(), corpus.meta["lang"]
    source = f"{lang} corpus ({corpus.meta.get('source', 'training half')})"
    log = get_run_logger()
    if config.reproducible:
        log.info(f"fastText {lang}: {config.epochs} epochs on one thread from seed {config.seed} (reproducible)")
    with Progress(f"fasttext-{lang}", f"fastText {lang} epochs", config.epochs, min_interval=0) as progress:
        emb, counts = train_fasttext(st.path(corpus) / "train.txt", config, threads=os.cpu_count() or 1,
                                     source=source, on_epoch=progress.update,
                                     on_wait=lambda s: log.info(f"fastText {lang}: training, {s:.0f} s"))
    meta = {"lang": lang, "words": len(emb.words), "dim": emb.dim}
    with st.writer("vectors", f"vectors-{lang}", meta, directory=True) as out:
        save_vectors(emb, counts, out.path)
    return out.ref


@task(name="measure-isomorphism", task_run_name="measure-isomorphism", cache_policy=STAGE_CACHE)
def measure_isomorphism(src_vectors: ArtifactRef, tgt_vectors: ArtifactRef, dictionary: ArtifactRef) -> dict:
    """How alike the two spaces are before mapping: eigenvector similarity (no dictionary) and the
    relational similarity of the seed dictionary's pairs (the test part is not read)."""
    st = store()
    src, tgt = (load_vectors(st.path(ref)) for ref in (src_vectors, tgt_vectors))
    iso = eigenvector_similarity(src.vectors, tgt.vectors)
    s_index, t_index = src.index(), tgt.index()
    seed = [(s_index[s], t_index[t]) for s, t in load_part(st.path(dictionary), "seed")
            if s in s_index and t in t_index]
    return {"eigenvector_similarity": round(iso.eigenvector_similarity, 2), "eigenvalues": iso.k,
            "graph_words": iso.words,
            "relational_similarity": round(relational_similarity(src.vectors, tgt.vectors, seed), 4)
            if len(seed) >= 3 else None}
