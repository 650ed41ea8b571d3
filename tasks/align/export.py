"""Mapping task: the selected map as aligned `.vec` files and a CSLS lexicon."""
from __future__ import annotations

import torch
from prefect import task

from components.align.catalog import AlignedExport, AlignmentRun
from components.align.config import AlignConfig, Retrieval
from components.align.lexicon import induce_lexicon
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.store import store


@task(name="export-alignment", cache_policy=STAGE_CACHE)
def export_alignment(run: ArtifactRef, config: AlignConfig, src_lang: str, tgt_lang: str) -> ArtifactRef:
    """The selected map as aligned `.vec` files (every word) and a CSLS lexicon (`source target score
    rank`) among the words the evaluation searches."""
    mapped = AlignmentRun.load(store().path(run))
    lexicon = induce_lexicon(torch.from_numpy(mapped.src.vectors), torch.from_numpy(mapped.tgt.vectors),
                             mapped.src.words, mapped.tgt.words, Retrieval.CSLS, config.retrieval, k=1,
                             max_words=config.evaluation.search_words)
    meta = {**run.meta, "src_lang": src_lang, "tgt_lang": tgt_lang, "lexicon_entries": len(lexicon)}
    with store().writer("aligned-vectors", f"aligned-{src_lang}-{tgt_lang}", meta, directory=True) as out:
        AlignedExport(src_lang, tgt_lang, mapped.src, mapped.tgt, lexicon).save(out.path)
    return out.ref
