import torch

from components.align.config import MappingSolver, WhitenReweightConfig
from components.align.procrustes import fit_mapping, procrustes, whiten_reweight


def _rotation(dim: int, g: torch.Generator) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=g, dtype=torch.float64))
    return q.float()


def test_procrustes_recovers_known_rotation():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 16, generator=g)
    rotation = _rotation(16, g)
    w = procrustes(x, x @ rotation)
    torch.testing.assert_close(w, rotation, atol=1e-5, rtol=0)


def test_procrustes_with_noise_is_orthogonal_and_close():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(500, 16, generator=g)
    rotation = _rotation(16, g)
    w = procrustes(x, x @ rotation + 0.05 * torch.randn(500, 16, generator=g))
    torch.testing.assert_close(w @ w.T, torch.eye(16), atol=1e-5, rtol=0)
    assert (w - rotation).abs().max() < 0.05


def test_fit_mapping_orthogonal_leaves_target_alone():
    g = torch.Generator().manual_seed(2)
    x, z = torch.randn(50, 8, generator=g), torch.randn(60, 8, generator=g)
    idx = torch.arange(40)
    w_src, w_tgt = fit_mapping(x, z, idx, idx + 5, MappingSolver.ORTHOGONAL, WhitenReweightConfig())
    torch.testing.assert_close(w_tgt, torch.eye(8))
    torch.testing.assert_close(w_src, procrustes(x[idx], z[idx + 5]))


def test_whiten_reweight_aligns_dictionary_pairs():
    # With an exact rotation between the sides, both maps must send each pair to the same point.
    g = torch.Generator().manual_seed(3)
    x = torch.randn(300, 10, generator=g) * torch.linspace(3, 0.5, 10)
    z = x @ _rotation(10, g)
    w_src, w_tgt = whiten_reweight(x, z, WhitenReweightConfig())
    torch.testing.assert_close(x @ w_src, z @ w_tgt, atol=1e-3, rtol=1e-3)
