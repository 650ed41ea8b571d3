"""Word-by-word translation with a CSLS lexicon induced from aligned embeddings (the baseline row)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from components.embeddings import Embeddings


def csls_lexicon(src: Embeddings, tgt: Embeddings, k: int = 10, batch: int = 2048) -> dict[str, str]:
    """Each source word's best target word by CSLS (Conneau et al. 2018) in the shared space.

    src: (n_src, d), tgt: (n_tgt, d) vectors, normalised here to unit length.
    """
    x = torch.nn.functional.normalize(torch.from_numpy(src.vectors).float(), dim=1)
    z = torch.nn.functional.normalize(torch.from_numpy(tgt.vectors).float(), dim=1)
    k_src, k_tgt = min(k, z.shape[0]), min(k, x.shape[0])

    def mean_topk(a: torch.Tensor, b: torch.Tensor, kk: int) -> torch.Tensor:
        return torch.cat([(a[i:i + batch] @ b.T).topk(kk, dim=1).values.mean(1)
                          for i in range(0, a.shape[0], batch)])

    r_src, r_tgt = mean_topk(x, z, k_src), mean_topk(z, x, k_tgt)  # neighbourhood densities
    best = torch.cat([(2 * (x[i:i + batch] @ z.T) - r_src[i:i + batch, None] - r_tgt[None]).argmax(1)
                      for i in range(0, x.shape[0], batch)])
    return {w: tgt.words[j] for w, j in zip(src.words, best.tolist())}


def translate_words(sentences: Sequence[str], lexicon: dict[str, str]) -> list[str]:
    """Replace each token by its lexicon entry; tokens the lexicon lacks are copied (names, numbers)."""
    return [" ".join(lexicon.get(t, t) for t in s.split()) for s in sentences]


def id_map(lexicon: dict[str, str], src_words: Sequence[str], tgt_index: dict[str, int], unk: int,
           specials: int) -> np.ndarray:
    """Lexicon as an id table over vocabularies: src id -> tgt id (copy when the same word exists)."""
    out = np.full(len(src_words), unk, dtype=np.int64)
    out[:specials] = np.arange(specials)
    for i, w in enumerate(src_words[specials:], start=specials):
        out[i] = tgt_index.get(lexicon.get(w, w), tgt_index.get(w, unk))
    return out
