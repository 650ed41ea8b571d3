"""Corpus task: how alike the two sides' embedding spaces are, before any mapping.

A module of its own: the cache key of a task covers its module's imports, and fastText must
not be retrained when the dictionary or the diagnostics change.
"""
from __future__ import annotations

from prefect import task

from components.align.isomorphism import eigenvector_similarity, relational_similarity
from components.align.pipeline import dictionary_indices
from components.dictionary import load_part
from components.embeddings import load_vectors
from components.errors import InputError
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.store import store


@task(name="measure-isomorphism", task_run_name="measure-isomorphism", cache_policy=STAGE_CACHE)
def measure_isomorphism(src_vectors: ArtifactRef, tgt_vectors: ArtifactRef, dictionary: ArtifactRef) -> dict:
    """How alike the two spaces are before mapping: eigenvector similarity (no dictionary) and the
    relational similarity of the seed dictionary's pairs (the test part is not read)."""
    st = store()
    src, tgt = (load_vectors(st.path(ref)) for ref in (src_vectors, tgt_vectors))
    iso = eigenvector_similarity(src.vectors, tgt.vectors)
    try:
        seed = list(zip(*(idx.tolist() for idx in dictionary_indices(load_part(st.path(dictionary), "seed"), src, tgt))))
    except InputError:  # no seed pair in both vocabularies
        seed = []
    return {"eigenvector_similarity": round(iso.eigenvector_similarity, 2), "eigenvalues": iso.k,
            "graph_words": iso.words,
            "relational_similarity": round(relational_similarity(src.vectors, tgt.vectors, seed), 4)
            if len(seed) >= 3 else None}
