"""Gromov–Wasserstein initialisation: matches intra-language distances, no spelling or dictionary."""
import numpy as np
import pytest
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


def test_dims_match_the_leading_part_only(planted, cpu):
    """Columns past `dims` (here noise, independent on each side) do not reach the coupling."""
    config = AlignConfig()
    x, z = _spaces(planted, config)
    gen = torch.Generator().manual_seed(0)
    x_noisy = torch.cat([x, 2 * torch.randn(x.shape[0], 8, generator=gen, dtype=x.dtype)], dim=1)
    z_noisy = torch.cat([z, 2 * torch.randn(z.shape[0], 8, generator=gen, dtype=z.dtype)], dim=1)
    # 30 outer iterations: the clean spaces converge in fewer; the noisy ones never do (300 cost 55 s)
    gw = GromovConfig(words=600, epsilon=1e-3, max_iterations=30, dims=x.shape[1])
    coupling, loss = gromov_coupling(x_noisy, z_noisy, gw)
    np.testing.assert_allclose(coupling, gromov_coupling(x, z, gw)[0])
    assert gromov_loss(x_noisy, z_noisy, coupling, gw) == pytest.approx(gromov_loss(x, z, coupling, gw))
    src_idx, tgt_idx = coupling_dictionary(coupling, cpu)
    assert (torch.as_tensor(planted.gold)[src_idx] == tgt_idx).float().mean() > 0.5
    whole, _ = gromov_coupling(x_noisy, z_noisy, gw.model_copy(update={"dims": None}))
    src_idx, tgt_idx = coupling_dictionary(whole, cpu)
    assert (torch.as_tensor(planted.gold)[src_idx] == tgt_idx).float().mean() < 0.5
