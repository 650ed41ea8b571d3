"""Mapping tasks: P@k of every run and reference on the test dictionary (reporting only)."""
from __future__ import annotations

from typing import Any

import torch
from prefect import task

from components.align.catalog import AlignmentRun
from components.align.config import AlignConfig
from components.align.evaluate import csls_p1, evaluate_copy, most_frequent, word_translation_precision
from components.align.retrieval import csls_penalties
from components.dictionary import load_part
from components.embeddings import load_vocabulary
from components.store import ArtifactRef
from tasks.cache import STAGE_CACHE
from tasks.store import store


@task(name="evaluate-alignment", task_run_name="evaluate-{run.meta[method]}-{run.meta[seed]}",
      cache_policy=STAGE_CACHE)
def evaluate_alignment(run: ArtifactRef, dictionary: ArtifactRef, config: AlignConfig,
                       dev: bool = False) -> dict[str, Any]:
    """P@k (NN and CSLS, both directions, by frequency bucket) on the test dictionary and, with
    `dev` (maps that never saw the seed part), CSLS P@1 on the seed part as `dev_p1_csls_s2t`:
    reporting only, nothing is selected on either."""
    st = store()
    mapped = AlignmentRun.load(st.path(run))
    x, z, *words = most_frequent(config.evaluation.search_words, torch.from_numpy(mapped.src.vectors),
                                 torch.from_numpy(mapped.tgt.vectors), mapped.src.words, mapped.tgt.words)
    penalties = csls_penalties(x, z, config.retrieval)  # shared by the test and the seed part
    report = word_translation_precision(x, z, *words, load_part(st.path(dictionary), "test"), config.evaluation,
                                        config.retrieval, "test dictionary", penalties)
    out = {**report.as_dict(), "criterion": run.meta["criterion"], "seconds": run.meta["seconds"]}
    if dev:
        out["dev_p1_csls_s2t"] = csls_p1(x, z, *words, load_part(st.path(dictionary), "seed"), config.retrieval,
                                         "seed dictionary", penalties=penalties)
    return out


@task(name="evaluate-copy", cache_policy=STAGE_CACHE)
def evaluate_copy_row(src_vectors: ArtifactRef, tgt_vectors: ArtifactRef, dictionary: ArtifactRef,
                      config: AlignConfig) -> dict[str, Any]:
    """The 'copy the source word' reference on the same test queries."""
    st = store()
    report = evaluate_copy(load_part(st.path(dictionary), "test"), load_vocabulary(st.path(src_vectors)),
                           load_vocabulary(st.path(tgt_vectors)), config.evaluation, "test dictionary")
    return report.as_dict()
