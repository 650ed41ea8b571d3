"""Input corruption for denoising auto-encoding: word dropout, blanking, local shuffle.

Each function takes one sentence as a list of token ids and a torch Generator, so runs
are reproducible and the generator's state can be checkpointed.
"""
from __future__ import annotations

import torch

from components.backtranslate.config import NoiseConfig
from components.backtranslate.vocab import BLANK_ID


def word_dropout(ids: list[int], p: float, gen: torch.Generator) -> list[int]:
    """Remove each token with probability p, keeping order; never returns an empty sentence."""
    if p <= 0 or not ids:
        return list(ids)
    keep = (torch.rand(len(ids), generator=gen) >= p).tolist()
    out = [t for t, k in zip(ids, keep) if k]
    if not out:  # keep one token so the encoder has something to read
        out = [ids[int(torch.randint(len(ids), (1,), generator=gen))]]
    return out


def blank(ids: list[int], p: float, gen: torch.Generator, blank_id: int = BLANK_ID) -> list[int]:
    """Replace each token with `blank_id` with probability p; length and other positions unchanged."""
    if p <= 0 or not ids:
        return list(ids)
    hit = (torch.rand(len(ids), generator=gen) < p).tolist()
    return [blank_id if h else t for t, h in zip(ids, hit)]


def local_shuffle(ids: list[int], k: int, gen: torch.Generator) -> list[int]:
    """A permutation that moves no token more than k positions (sort i + U[0, k+1))."""
    if k <= 0 or len(ids) < 2:
        return list(ids)
    keys = torch.arange(len(ids), dtype=torch.float64) + torch.rand(len(ids), generator=gen,
                                                                     dtype=torch.float64) * (k + 1)
    return [ids[i] for i in torch.argsort(keys, stable=True).tolist()]


def add_noise(ids: list[int], config: NoiseConfig, gen: torch.Generator) -> list[int]:
    """Shuffle locally, drop words, blank words (in that order)."""
    out = local_shuffle(ids, config.shuffle_k, gen)
    out = word_dropout(out, config.word_dropout, gen)
    return blank(out, config.blank, gen)
