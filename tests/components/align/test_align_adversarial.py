import warnings

import pytest
import torch

from components.align.adversarial import (
    Discriminator,
    SeededDropout,
    adversarial_training,
    clamp_most_frequent,
    orthogonalize,
)
from components.align.config import AdversarialConfig, CriterionConfig, RetrievalConfig
from components.align.criterion import selection_criterion
from components.align.normalize import unit_length
from components.align.state import LinearMaps, Stage


def test_orthogonalize_keeps_orthogonal_map_orthogonal():
    q, _ = torch.linalg.qr(torch.randn(32, 32, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    w = q.float().clone()
    for _ in range(100):
        orthogonalize(w, 0.001)
    torch.testing.assert_close(w @ w.T, torch.eye(32), atol=1e-4, rtol=0)


def test_orthogonalize_pulls_perturbed_map_back():
    g = torch.Generator().manual_seed(1)
    q, _ = torch.linalg.qr(torch.randn(16, 16, generator=g, dtype=torch.float64))
    w = (q + 0.01 * torch.randn(16, 16, generator=g, dtype=torch.float64)).float()
    before = (w @ w.T - torch.eye(16)).norm()
    for _ in range(2000):
        orthogonalize(w, 0.01)
    after = (w @ w.T - torch.eye(16)).norm()
    assert after < before / 100


def test_discriminator_shapes():
    config = AdversarialConfig(dis_hid_dim=64)
    dis = Discriminator(12, config)
    out = dis(torch.randn(7, 12))
    assert out.shape == (7,)
    assert ((out > 0) & (out < 1)).all()
    linear = [m for m in dis.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linear) == config.dis_layers + 1
    assert isinstance(dis.layers[0], SeededDropout) and dis.layers[0].p == config.dis_input_dropout
    dis.eval()
    x = torch.randn(7, 12)
    torch.testing.assert_close(dis(x), dis(x))  # no dropout outside training


def test_most_frequent_is_clamped_with_a_warning():
    with pytest.warns(UserWarning, match="exceeds the source vocabulary"):
        assert clamp_most_frequent(75000, 600, "source") == 600
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clamp_most_frequent(0, 600, "source") == 600
        assert clamp_most_frequent(200, 600, "source") == 200


def test_adversarial_training_runs_deterministically_and_keeps_best_epoch():
    g = torch.Generator().manual_seed(2)
    x = unit_length(torch.randn(300, 16, generator=g))
    z = unit_length(torch.randn(300, 16, generator=g))
    config = AdversarialConfig(dis_hid_dim=32, n_epochs=3, epoch_size=320, dis_most_frequent=200)
    runs = [
        adversarial_training(x, z, config, CriterionConfig(), RetrievalConfig(), seed=5) for _ in range(2)
    ]
    (maps, history), (maps2, _) = runs
    torch.testing.assert_close(maps.w_src, maps2.w_src)
    assert [p.stage for p in history] == [Stage.ADVERSARIAL] * 3
    assert all(p.criterion is not None and p.objective is not None for p in history)
    torch.testing.assert_close(maps.w_tgt, torch.eye(16))
    # The map stays near-orthogonal throughout training.
    torch.testing.assert_close(maps.w_src @ maps.w_src.T, torch.eye(16), atol=0.05, rtol=0)


def test_the_epoch_criterion_searches_only_the_most_frequent_words():
    g = torch.Generator().manual_seed(4)
    x = unit_length(torch.randn(300, 16, generator=g))
    z = unit_length(torch.randn(300, 16, generator=g))
    config = AdversarialConfig(dis_hid_dim=32, n_epochs=1, epoch_size=320, dis_most_frequent=200)
    (maps, history), (maps_all, history_all) = (
        adversarial_training(x, z, config, CriterionConfig(), RetrievalConfig(), seed=5, search_words=n)
        for n in (120, None))
    torch.testing.assert_close(maps.w_src, maps_all.w_src, rtol=0, atol=0)  # training does not depend on it
    assert history[0].criterion == pytest.approx(selection_criterion(
        *LinearMaps(maps.w_src, torch.eye(16)).apply(x[:120], z[:120]), CriterionConfig(), RetrievalConfig()))
    assert history[0].criterion != pytest.approx(history_all[0].criterion)


def test_runs_in_parallel_threads_give_what_they_give_alone():
    """A sweep trains its runs in threads; no run may draw from another's random numbers."""
    from concurrent.futures import ThreadPoolExecutor

    g = torch.Generator().manual_seed(3)
    x = unit_length(torch.randn(300, 16, generator=g))
    z = unit_length(torch.randn(300, 16, generator=g))
    config = AdversarialConfig(dis_hid_dim=32, n_epochs=2, epoch_size=3200, dis_most_frequent=200)

    def run(seed):
        torch.rand(1)  # whatever else the process draws from the default generator
        return adversarial_training(x, z, config, CriterionConfig(), RetrievalConfig(), seed=seed)[0].w_src

    alone = [run(seed) for seed in (0, 1, 2)]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(run, (0, 1, 2)))
    for a, b in zip(alone, together):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(alone[0], alone[1])
