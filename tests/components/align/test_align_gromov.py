"""Gromov–Wasserstein initialisation: matches intra-language distances, no spelling or dictionary."""
import numpy as np
import torch

from components.align.config import AlignConfig, GromovConfig, InitMethod
from components.align.gromov import coupling_dictionary, gromov_coupling, gromov_loss
from components.align.normalize import normalize
from components.align.pipeline import align, evaluate_result


def _spaces(planted, config: AlignConfig):
    x = normalize(torch.from_numpy(planted.src.vectors), config.normalization)
    z = normalize(torch.from_numpy(planted.tgt.vectors), config.normalization)
    return x, z


def test_coupling_finds_planted_matches_and_prefers_them(planted, cpu):
    config = AlignConfig()
    x, z = _spaces(planted, config)
    gw = GromovConfig(words=600, epsilon=1e-3, max_iterations=300)
    coupling, _ = gromov_coupling(x, z, gw)
    assert coupling.shape == (600, 600)
    np.testing.assert_allclose(coupling.sum(axis=1), 1 / 600, rtol=1e-2)
    src_idx, tgt_idx = coupling_dictionary(coupling, cpu)
    correct = (torch.as_tensor(planted.gold)[src_idx] == tgt_idx).float().mean()
    assert src_idx.numel() > 100 and correct > 0.5
    truth = np.zeros((600, 600))
    truth[np.arange(600), planted.gold] = 1 / 600
    shuffled = truth[np.random.default_rng(0).permutation(600)]
    assert gromov_loss(x, z, truth, gw) < gromov_loss(x, z, shuffled, gw)


def test_seeds_start_from_different_couplings(planted):
    config = AlignConfig()
    x, z = _spaces(planted, config)
    gw = GromovConfig(words=200, max_iterations=5)
    a, _ = gromov_coupling(x, z, gw, seed=0)
    b, _ = gromov_coupling(x, z, gw, seed=1)
    assert not np.allclose(a, b)


def test_gromov_pipeline_recovers_planted_alignment(planted, cpu):
    config = AlignConfig(method=InitMethod.GROMOV, gromov={"words": 600, "epsilon": 1e-3, "max_iterations": 300},
                         vecmap={"stochastic_interval": 10}, refine={"n_refinement": 2})
    result = align(planted.src, planted.tgt, config, cpu, seed=0)
    assert evaluate_result(result, planted.pairs, config, cpu).metrics["p1_csls_s2t"] > 0.9
