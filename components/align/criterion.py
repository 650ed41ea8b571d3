"""Unsupervised model-selection criteria.

MUSE's: mean cosine between the most frequent source words and their CSLS translations
(MUSE 'mean_cosine-csls_knn_10-S2T-10000'); or the share of those words whose translation
translates back to them. Both look at the two embedding spaces only: no dictionary enters,
so selecting seeds, epochs or methods on them cannot leak the test set.
"""
from __future__ import annotations

import torch

from components.align.config import CriterionConfig, CriterionKind, RetrievalConfig
from components.align.retrieval import NearestLinks, nearest_both_ways
from components.report import Criterion


def criterion_from_links(links: NearestLinks, config: CriterionConfig) -> float:
    """Criterion from nearest links already computed with `config.retrieval` (see `CriterionKind`)."""
    if config.kind is CriterionKind.MUTUAL_NN:
        s2t = links.s2t[: config.n_most_frequent]
        back = links.t2s[s2t]
        return float((back == torch.arange(s2t.shape[0], device=back.device)).float().mean())
    return float(links.s2t_cos[: config.n_most_frequent].mean())


def selection_criterion(
    src_mapped: torch.Tensor, tgt: torch.Tensor, config: CriterionConfig, retrieval: RetrievalConfig
) -> float:
    """Criterion of a map, higher is better.

    src_mapped: (n_src, d) mapped source embeddings, unit length, most frequent first;
    tgt: (n_tgt, d) target embeddings in the same space, unit length. CSLS penalties are
    measured on the whole vocabularies; the `n_most_frequent` source words are scored.
    """
    return criterion_from_links(nearest_both_ways(src_mapped, tgt, config.retrieval, retrieval), config)


def criterion_of(config: CriterionConfig) -> Criterion:
    """The selection criterion a config computes, with its name and direction (higher is better)."""
    if config.kind is CriterionKind.MUTUAL_NN:
        name = f"share of the {config.n_most_frequent} most frequent source words that translate back to themselves"
    else:
        name = f"MUSE mean CSLS cosine of the {config.n_most_frequent} most frequent source words"
    return Criterion(name=name, higher_is_better=True)
