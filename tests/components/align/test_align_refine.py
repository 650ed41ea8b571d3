import torch

from components.align.config import (
    CriterionConfig,
    Direction,
    MappingSolver,
    Normalization,
    RefineConfig,
    Retrieval,
    RetrievalConfig,
    WhitenReweightConfig,
)
from components.align.normalize import normalize
from components.align.procrustes import fit_mapping, procrustes
from components.align.refine import induce_dictionary, refine
from components.align.state import LinearMaps, Stage


def _spaces(planted):
    x = normalize(torch.as_tensor(planted.src.vectors), Normalization.UNIT_CENTER_UNIT)
    z = normalize(torch.as_tensor(planted.tgt.vectors), Normalization.UNIT_CENTER_UNIT)
    return x, z, torch.as_tensor(planted.gold)


def test_mutual_dictionary_is_the_intersection_of_both_directions(planted):
    x, z, _ = _spaces(planted)
    config = RetrievalConfig()
    s2t = set(zip(*(t.tolist() for t in induce_dictionary(x, z, Retrieval.CSLS, Direction.S2T, 600, config))))
    t2s = set(zip(*(t.tolist() for t in induce_dictionary(x, z, Retrieval.CSLS, Direction.T2S, 600, config))))
    mutual = set(zip(*(t.tolist() for t in induce_dictionary(x, z, Retrieval.CSLS, Direction.MUTUAL, 600, config))))
    assert mutual == s2t & t2s
    union = induce_dictionary(x, z, Retrieval.NN, Direction.UNION, 600, config)
    assert union[0].shape[0] == 1200


def test_max_rank_restricts_both_sides(planted):
    x, z, _ = _spaces(planted)
    s, t = induce_dictionary(x, z, Retrieval.CSLS, Direction.MUTUAL, 100, RetrievalConfig())
    assert (s < 100).all() and (t < 100).all()


def test_refinement_from_a_rough_map_recovers_the_rotation(planted):
    x, z, gold = _spaces(planted)
    # Start from a perturbed rotation (nearest orthogonal matrix to rotation + noise): rough but useful.
    noisy = torch.as_tensor(planted.rotation) + 0.25 * torch.randn(32, 32, generator=torch.Generator().manual_seed(0))
    u, _, vt = torch.linalg.svd(noisy)
    rough = u @ vt
    start = LinearMaps(rough, torch.eye(32))
    p1_start = ((start.apply(x, z)[0] @ z.T).argmax(dim=1) == gold).float().mean().item()
    maps, history = refine(
        x, z, start, RefineConfig(), WhitenReweightConfig(), CriterionConfig(), RetrievalConfig()
    )
    xm, zm = maps.apply(x, z)
    p1 = ((xm @ zm.T).argmax(dim=1) == gold).float().mean().item()
    assert p1 > 0.95 > p1_start
    assert [p.step for p in history] == list(range(6)) and all(p.stage is Stage.REFINE for p in history)
    assert max(p.criterion for p in history) > history[0].criterion



def test_starting_map_does_not_compete_once_refinement_ran(planted):
    x, z, _ = _spaces(planted)
    # A whitened, re-weighted start has a criterion on another scale; the refined map is returned.
    start = LinearMaps(*fit_mapping(x, z, torch.arange(600), torch.as_tensor(planted.gold), MappingSolver.WHITEN_REWEIGHT, WhitenReweightConfig()))
    maps, history = refine(x, z, start, RefineConfig(n_refinement=1), WhitenReweightConfig(), CriterionConfig(), RetrievalConfig())
    src_idx, tgt_idx = induce_dictionary(*start.apply(x, z), Retrieval.CSLS, Direction.MUTUAL, 15000, RetrievalConfig())
    torch.testing.assert_close(maps.w_src, procrustes(x[src_idx], z[tgt_idx]))
    assert len(history) == 2


def test_refinement_stops_when_the_criterion_stalls(planted):
    x, z, gold = _spaces(planted)
    exact = LinearMaps(torch.as_tensor(planted.rotation), torch.eye(32))
    config = RefineConfig(n_refinement=10, min_gain=1e-3)
    _, history = refine(x, z, exact, config, WhitenReweightConfig(), CriterionConfig(), RetrievalConfig())
    assert len(history) < 11
