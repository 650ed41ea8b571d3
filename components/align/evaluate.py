"""Word-translation evaluation on a bilingual test dictionary (MUSE protocol).

A query word counts as translated at k when any of its gold translations is among its top-k
retrieved words. Both directions, NN (cosine) and CSLS retrieval; P@1 by frequency bucket
of the source word; the same figures without the pairs whose two words are spelled alike.
Values are fractions in [0, 1].
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import torch

from components.align.config import EvaluationConfig, Retrieval, RetrievalConfig
from components.align.retrieval import csls_penalties, translate
from components.errors import InputError

Pairs = Sequence[tuple[str, str]]
T = TypeVar("T", torch.Tensor, Sequence[str])


@dataclass(frozen=True)
class EvaluationReport:
    """Precision figures of one aligned pair of spaces on one dictionary.

    metrics: keys `p{k}_{nn|csls}_{s2t|t2s}` (DESIGN.md section 5 names).
    p1_by_bucket: keys `p1_{nn|csls}_s2t_{lo}-{hi}` (source frequency rank range, hi empty = open).
    counts: queries per direction and per bucket, pairs used and pairs given.
    without_identical: the same metrics on the pairs whose words differ (None when none remain).
    """

    metrics: dict[str, float]
    p1_by_bucket: dict[str, float]
    counts: dict[str, int]
    without_identical: dict[str, float] | None = field(default=None)

    def as_dict(self) -> dict[str, object]:
        return {
            **self.metrics,
            "p1_by_bucket": dict(self.p1_by_bucket),
            "counts": dict(self.counts),
            "without_identical": None if self.without_identical is None else dict(self.without_identical),
        }


def gold_translations(
    pairs: Pairs, query_words: Sequence[str], key_words: Sequence[str], source: object = "dictionary"
) -> dict[int, set[int]]:
    """Map each in-vocabulary query index to the set of its in-vocabulary gold key indices.

    Pairs with a word outside either vocabulary are skipped. Raises InputError naming `source`
    when no pair is left.
    """
    q_index = {w: i for i, w in enumerate(query_words)}
    k_index = {w: i for i, w in enumerate(key_words)}
    gold: dict[int, set[int]] = {}
    for q, k in pairs:
        if q in q_index and k in k_index:
            gold.setdefault(q_index[q], set()).add(k_index[k])
    if not gold:
        raise InputError(source, f"none of its {len(pairs)} pairs has both words in the vocabularies")
    return gold


def precision_at_k(
    query_space: torch.Tensor,
    keys: torch.Tensor,
    gold: dict[int, set[int]],
    ks: Sequence[int],
    retrieval: Retrieval,
    config: RetrievalConfig,
    penalties: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[dict[int, float], torch.Tensor, torch.Tensor]:
    """P@k of translating the queries in `gold` from query_space (n, d) into keys (m, d).

    penalties: CSLS penalties (r_query_space (n,), r_keys (m,)) when already measured.
    Returns ({k: precision}, query indices (q,), hit-at-1 flags (q,) bool) so callers can
    break P@1 down by query.
    """
    rows = torch.tensor(sorted(gold), dtype=torch.long, device=query_space.device)
    _, top = translate(query_space, keys, max(ks), retrieval, config, rows=rows, penalties=penalties)
    top = top.cpu()
    # hits[i, r]: the r-th retrieved key of query i is a gold translation.
    hits = torch.tensor(
        [[int(t) in gold[int(q)] for t in row] for q, row in zip(rows.tolist(), top)], dtype=torch.bool
    ).reshape(len(rows), -1)
    precision = {k: float(hits[:, :k].any(dim=1).float().mean()) for k in ks}
    return precision, rows.cpu(), hits[:, 0]


def most_frequent(n: int | None, *columns: T) -> tuple[T, ...]:
    """The first `n` rows (the most frequent words) of each of `columns` (all when None)."""
    return tuple(c[:n] for c in columns)


def csls_p1(
    src_mapped: torch.Tensor,
    tgt_mapped: torch.Tensor,
    src_words: Sequence[str],
    tgt_words: Sequence[str],
    pairs: Pairs,
    retrieval: RetrievalConfig,
    source: object = "dictionary",
    search_words: int | None = None,
    penalties: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> float:
    """CSLS P@1 source to target on `pairs` only (the dev check of the selection criterion),
    among the `search_words` most frequent words of each side (all when None).

    penalties: the CSLS penalties of those words when already measured (`csls_penalties`).
    """
    src_mapped, tgt_mapped, src_words, tgt_words = most_frequent(search_words, src_mapped, tgt_mapped,
                                                                 src_words, tgt_words)
    gold = gold_translations(pairs, src_words, tgt_words, source)
    precision, _, _ = precision_at_k(src_mapped, tgt_mapped, gold, (1,), Retrieval.CSLS, retrieval, penalties)
    return precision[1]


def _bucket_label(lo: int, hi: int | None) -> str:
    return f"{lo}-{'' if hi is None else hi}"


def _metrics(
    src: torch.Tensor,
    tgt: torch.Tensor,
    src_words: Sequence[str],
    tgt_words: Sequence[str],
    pairs: Pairs,
    evaluation: EvaluationConfig,
    retrieval: RetrievalConfig,
    source: object,
    penalties: tuple[torch.Tensor, torch.Tensor],
) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
    r_src, r_tgt = penalties
    gold_s2t = gold_translations(pairs, src_words, tgt_words, source)
    gold_t2s = gold_translations([(t, s) for s, t in pairs], tgt_words, src_words, source)
    metrics: dict[str, float] = {}
    buckets: dict[str, float] = {}
    counts = {"queries_s2t": len(gold_s2t), "queries_t2s": len(gold_t2s)}
    edges = [0, *evaluation.frequency_buckets, None]
    for method in Retrieval:
        for direction, (q, k, gold, r) in {"s2t": (src, tgt, gold_s2t, (r_src, r_tgt)),
                                           "t2s": (tgt, src, gold_t2s, (r_tgt, r_src))}.items():
            precision, rows, hit1 = precision_at_k(q, k, gold, evaluation.ks, method, retrieval, r)
            for kk, value in precision.items():
                metrics[f"p{kk}_{method.value}_{direction}"] = value
            if direction != "s2t":
                continue
            for lo, hi in zip(edges[:-1], edges[1:]):
                in_bucket = (rows >= lo) & (rows < hi) if hi is not None else rows >= lo
                label = _bucket_label(lo, hi)
                counts[f"bucket_{label}"] = int(in_bucket.sum())
                if in_bucket.any():
                    buckets[f"p1_{method.value}_s2t_{label}"] = float(hit1[in_bucket].float().mean())
    return metrics, buckets, counts


def word_translation_precision(
    src_mapped: torch.Tensor,
    tgt_mapped: torch.Tensor,
    src_words: Sequence[str],
    tgt_words: Sequence[str],
    pairs: Pairs,
    evaluation: EvaluationConfig,
    retrieval: RetrievalConfig,
    source: object = "dictionary",
    penalties: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> EvaluationReport:
    """Evaluate aligned spaces on a test dictionary.

    src_mapped: (n_src, d), tgt_mapped: (n_tgt, d), unit length, rows in the order of
    src_words / tgt_words (most frequent first, which defines the frequency buckets).
    pairs: (source word, target word); a word may have several gold translations.
    Only the `evaluation.search_words` most frequent words of each side take part; `penalties`
    are their CSLS penalties when already measured.
    Raises InputError naming `source` when no pair is in both vocabularies.
    """
    if src_mapped.shape[1] != tgt_mapped.shape[1]:
        raise InputError(source, f"spaces differ in dimension: {src_mapped.shape[1]} vs {tgt_mapped.shape[1]}")
    src_mapped, tgt_mapped, src_words, tgt_words = most_frequent(evaluation.search_words, src_mapped, tgt_mapped,
                                                                 src_words, tgt_words)
    # The penalties depend on the spaces only: measured once for both directions and both pair sets.
    if penalties is None:
        penalties = csls_penalties(src_mapped, tgt_mapped, retrieval)
    metrics, buckets, counts = _metrics(
        src_mapped, tgt_mapped, src_words, tgt_words, pairs, evaluation, retrieval, source, penalties
    )
    counts["pairs_given"] = len(pairs)
    s_vocab, t_vocab = set(src_words), set(tgt_words)
    counts["pairs_in_vocab"] = sum(1 for s, t in pairs if s in s_vocab and t in t_vocab)
    different = [(s, t) for s, t in pairs if s != t and s in s_vocab and t in t_vocab]
    without = None
    if different:
        without, _, _ = _metrics(
            src_mapped, tgt_mapped, src_words, tgt_words, different, evaluation, retrieval, source, penalties
        )
    return EvaluationReport(metrics, buckets, counts, without)


def _copy_metrics(
    pairs: Pairs, src_words: Sequence[str], tgt_words: Sequence[str], ks: Sequence[int], source: object
) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for direction, (qw, kw, dp) in {
        "s2t": (src_words, tgt_words, pairs),
        "t2s": (tgt_words, src_words, [(t, s) for s, t in pairs]),
    }.items():
        gold = gold_translations(dp, qw, kw, source)
        k_index = {w: i for i, w in enumerate(kw)}
        correct = sum(1 for q, g in gold.items() if k_index.get(qw[q], -1) in g) / len(gold)
        # A copy proposes a single candidate, so every P@k equals P@1; NN and CSLS alike.
        for method in Retrieval:
            for k in ks:
                metrics[f"p{k}_{method.value}_{direction}"] = correct
    return metrics


def evaluate_copy(
    pairs: Pairs,
    src_words: Sequence[str],
    tgt_words: Sequence[str],
    evaluation: EvaluationConfig,
    source: object = "dictionary",
) -> EvaluationReport:
    """Reference row 'copy': every query word is translated by itself, on the same queries as
    `word_translation_precision` (pairs with both words among its `search_words`)."""
    src_words, tgt_words = most_frequent(evaluation.search_words, src_words, tgt_words)
    metrics = _copy_metrics(pairs, src_words, tgt_words, evaluation.ks, source)
    s_vocab, t_vocab = set(src_words), set(tgt_words)
    in_vocab = [(s, t) for s, t in pairs if s in s_vocab and t in t_vocab]
    counts = {"pairs_given": len(pairs), "pairs_in_vocab": len(in_vocab)}
    different = [(s, t) for s, t in in_vocab if s != t]
    without = _copy_metrics(different, src_words, tgt_words, evaluation.ks, source) if different else None
    return EvaluationReport(metrics, {}, counts, without)
