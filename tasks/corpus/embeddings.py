"""Corpus task: fastText embeddings of one side (with count-based vectors appended when configured)."""
from __future__ import annotations

import os

from prefect import get_run_logger, task

from components.embeddings import EmbeddingConfig, save_vectors, train_fasttext, with_count_vectors
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.progress import Progress
from tasks.store import store


@task(name="train-embeddings", task_run_name="train-embeddings-{corpus.meta[lang]}", cache_policy=STAGE_CACHE)
def train_embeddings(corpus: ArtifactRef, config: EmbeddingConfig) -> ArtifactRef:
    """fastText skipgram vectors of a corpus side (plus PPMI-SVD ones if configured), as `vectors.vec`
    plus `vocab.tsv` counts."""
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
    if config.count.dim:
        emb = with_count_vectors(emb, st.path(corpus) / "train.txt", config.count, seed=config.seed)
        log.info(f"{lang}: {emb.dim - meta['dim']} PPMI-SVD dimensions appended to fastText's {meta['dim']}")
        meta.update(dim=emb.dim, parts=[meta["dim"], emb.dim - meta["dim"]])  # widths, fastText's first
    with st.writer("vectors", f"vectors-{lang}", meta, directory=True) as out:
        save_vectors(emb, counts, out.path)
    return out.ref
