"""Noise functions keep the properties they claim, for many seeds."""
from collections import Counter

import pytest
import torch

from components.backtranslate.config import NoiseConfig
from components.backtranslate.noise import add_noise, blank, local_shuffle, word_dropout
from components.backtranslate.vocab import BLANK_ID

SENTENCE = list(range(10, 40))


def is_subsequence(short: list[int], long: list[int]) -> bool:
    it = iter(long)
    return all(t in it for t in short)


@pytest.mark.parametrize("seed", range(20))
def test_local_shuffle_is_a_permutation_moving_nothing_more_than_k(seed):
    gen = torch.Generator().manual_seed(seed)
    for k in (0, 1, 3, 5):
        out = local_shuffle(SENTENCE, k, gen)
        assert Counter(out) == Counter(SENTENCE)
        assert all(abs(out.index(t) - i) <= k for i, t in enumerate(SENTENCE))
    assert local_shuffle(SENTENCE, 0, gen) == SENTENCE


@pytest.mark.parametrize("seed", range(20))
def test_word_dropout_keeps_order_and_never_empties(seed):
    gen = torch.Generator().manual_seed(seed)
    out = word_dropout(SENTENCE, 0.3, gen)
    assert is_subsequence(out, SENTENCE) and 0 < len(out) <= len(SENTENCE)
    assert len(word_dropout([7], 0.99, gen)) == 1
    assert word_dropout(SENTENCE, 0.0, gen) == SENTENCE


@pytest.mark.parametrize("seed", range(20))
def test_blank_changes_only_blanked_positions(seed):
    gen = torch.Generator().manual_seed(seed)
    out = blank(SENTENCE, 0.4, gen)
    assert len(out) == len(SENTENCE)
    assert all(o == s or o == BLANK_ID for o, s in zip(out, SENTENCE))


def test_rates_are_roughly_the_configured_ones():
    gen = torch.Generator().manual_seed(0)
    long = list(range(10, 10010))
    assert abs(len(word_dropout(long, 0.1, gen)) / len(long) - 0.9) < 0.02
    assert abs(blank(long, 0.2, gen).count(BLANK_ID) / len(long) - 0.2) < 0.02


def test_add_noise_is_reproducible_and_handles_empty_input():
    config = NoiseConfig()
    a = add_noise(SENTENCE, config, torch.Generator().manual_seed(1))
    b = add_noise(SENTENCE, config, torch.Generator().manual_seed(1))
    assert a == b
    assert Counter(t for t in a if t != BLANK_ID) <= Counter(SENTENCE)
    assert add_noise([], config, torch.Generator()) == []
