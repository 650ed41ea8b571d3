"""MUSE's unsupervised model-selection criterion.

Mean cosine between the most frequent source words and their CSLS translations
(MUSE 'mean_cosine-csls_knn_10-S2T-10000'). It looks at the two embedding spaces only:
no dictionary enters, so selecting seeds, epochs or methods on it cannot leak the test set.
"""
from __future__ import annotations

import torch

from components.align.config import CriterionConfig, RetrievalConfig
from components.align.retrieval import translate


def mean_cosine_criterion(
    src_mapped: torch.Tensor, tgt: torch.Tensor, config: CriterionConfig, retrieval: RetrievalConfig
) -> float:
    """Criterion of a map, higher is better.

    src_mapped: (n_src, d) mapped source embeddings, unit length, most frequent first;
    tgt: (n_tgt, d) target embeddings in the same space, unit length.
    """
    n = min(config.n_most_frequent, src_mapped.shape[0])
    rows = torch.arange(n, device=src_mapped.device)
    _, best = translate(src_mapped, tgt, 1, config.retrieval, retrieval, rows=rows)
    return float((src_mapped[rows] * tgt[best[:, 0]]).sum(dim=1).mean())
