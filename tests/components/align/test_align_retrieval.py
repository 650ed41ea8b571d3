import numpy as np
import torch

from components.align.config import Direction, Retrieval, RetrievalConfig
from components.align.normalize import unit_length
from components.align.retrieval import csls_knn, csls_penalties, dictionary_from_links, knn, nearest_both_ways, translate


def _spaces(seed: int = 0, n: int = 300, m: int = 250, d: int = 16):
    g = torch.Generator().manual_seed(seed)
    return unit_length(torch.randn(n, d, generator=g)), unit_length(torch.randn(m, d, generator=g))


def _exact_csls(src: torch.Tensor, tgt: torch.Tensor, k: int = 10) -> torch.Tensor:
    """Full CSLS matrix (n, m) straight from the definition, in float64."""
    sims = src.double() @ tgt.double().T
    r_src = sims.topk(k, dim=1).values.mean(dim=1)
    r_tgt = sims.topk(k, dim=0).values.mean(dim=0)
    return 2 * sims - r_src[:, None] - r_tgt[None, :]


def test_faiss_knn_matches_torch():
    src, tgt = _spaces()
    s_faiss, i_faiss = knn(src, tgt, 5, use_faiss=True)
    s_torch, i_torch = knn(src, tgt, 5, use_faiss=False, batch_size=64)
    torch.testing.assert_close(s_faiss, s_torch, atol=1e-5, rtol=0)
    assert (i_faiss == i_torch).float().mean() > 0.99  # ties aside


def test_csls_with_faiss_equals_exact_computation():
    src, tgt = _spaces(1)
    exact = _exact_csls(src, tgt)
    exact_scores, exact_idx = exact.topk(3, dim=1)
    for use_faiss in (True, False):
        config = RetrievalConfig(use_faiss=use_faiss, batch_size=37)
        r_src, r_tgt = csls_penalties(src, tgt, config)
        scores, idx = csls_knn(src, tgt, 3, r_query=r_src, r_keys=r_tgt, batch_size=37)
        np.testing.assert_allclose(scores.double().numpy(), exact_scores.numpy(), atol=1e-5)
        assert (idx[:, 0] == exact_idx[:, 0]).all()
        scores_t, idx_t = translate(src, tgt, 3, Retrieval.CSLS, config)
        torch.testing.assert_close(scores_t, scores)
        assert (idx_t == idx).all()


def test_translate_subset_of_rows_matches_full_vocabulary():
    src, tgt = _spaces(2)
    config = RetrievalConfig()
    rows = torch.tensor([5, 0, 17, 299])
    for method in Retrieval:
        full_s, full_i = translate(src, tgt, 4, method, config)
        sub_s, sub_i = translate(src, tgt, 4, method, config, rows=rows)
        torch.testing.assert_close(sub_s, full_s[rows])
        assert (sub_i == full_i[rows]).all()
        reused_s, reused_i = translate(src, tgt, 4, method, config, rows=rows,
                                       penalties=csls_penalties(src, tgt, config))
        torch.testing.assert_close(reused_s, sub_s)
        assert (reused_i == sub_i).all()


def test_k_is_clamped_to_number_of_keys():
    src, tgt = _spaces(3, n=20, m=4)
    scores, idx = translate(src, tgt, 10, Retrieval.NN, RetrievalConfig())
    assert scores.shape == idx.shape == (20, 4)


def test_nearest_both_ways_equals_exact_computation_blocked_or_not():
    src, tgt = _spaces(4, n=230, m=190)
    exact = _exact_csls(src, tgt)
    cosines = src.double() @ tgt.double().T
    for config in (RetrievalConfig(), RetrievalConfig(batch_size=50), RetrievalConfig(batch_size=7, cache_mb=0)):
        links = nearest_both_ways(src, tgt, Retrieval.CSLS, config)
        assert (links.s2t == exact.argmax(dim=1)).all()
        assert (links.t2s == exact.argmax(dim=0)).all()
        np.testing.assert_allclose(links.s2t_cos.numpy(), cosines[torch.arange(230), links.s2t].numpy(), atol=1e-5)
        np.testing.assert_allclose(links.max_t2s_cos.numpy(), cosines.max(dim=0).values.numpy(), atol=1e-5)
        nn = nearest_both_ways(src, tgt, Retrieval.NN, config)
        assert (nn.s2t == cosines.argmax(dim=1)).all() and (nn.t2s == cosines.argmax(dim=0)).all()
    # The same as retrieving one translation per word with `translate`.
    _, idx = translate(src, tgt, 1, Retrieval.CSLS, RetrievalConfig())
    assert (idx[:, 0] == links.s2t).all()


def test_dictionary_from_links_directions_and_rank():
    src, tgt = _spaces(5, n=120, m=100)
    links = nearest_both_ways(src, tgt, Retrieval.CSLS, RetrievalConfig())
    s2t = set(zip(*(t.tolist() for t in dictionary_from_links(links, Direction.S2T))))
    t2s = set(zip(*(t.tolist() for t in dictionary_from_links(links, Direction.T2S))))
    mutual = set(zip(*(t.tolist() for t in dictionary_from_links(links, Direction.MUTUAL))))
    assert mutual == s2t & t2s and len(s2t) == 120 and len(t2s) == 100
    s, t = dictionary_from_links(links, Direction.UNION, max_rank=30)
    assert (s < 30).all() and (t < 30).all()


def test_links_from_scores_equals_nearest_both_ways_on_inner_products():
    from components.align.retrieval import links_from_scores

    src, tgt = _spaces(6, n=150, m=130)
    for method in Retrieval:
        dense = links_from_scores(src @ tgt.T, method, 10)
        blocked = nearest_both_ways(src, tgt, method, RetrievalConfig(batch_size=40))
        assert (dense.s2t == blocked.s2t).all() and (dense.t2s == blocked.t2s).all()
        torch.testing.assert_close(dense.s2t_cos, blocked.s2t_cos)


def test_frequency_prior_favours_equal_ranks_and_leaves_cosines_plain():
    src, tgt = _spaces(7, n=80, m=90)
    links = nearest_both_ways(src, tgt, Retrieval.CSLS, RetrievalConfig(batch_size=30), frequency_prior=1e4)
    assert (links.s2t == torch.arange(80)).all() and (links.t2s[:80] == torch.arange(80)).all()
    torch.testing.assert_close(links.s2t_cos, (src * tgt[:80]).sum(dim=1))


def test_sampled_nearest_with_every_key_kept_is_the_csls_argmax():
    from components.align.retrieval import sampled_nearest

    src, tgt = _spaces(8, n=100, m=120)
    links = nearest_both_ways(src, tgt, Retrieval.CSLS, RetrievalConfig())
    best = sampled_nearest(src, tgt, links.r_tgt, 1.0, torch.Generator(), block_rows=16)
    assert (best == links.s2t).all()
    some = sampled_nearest(src, tgt, links.r_tgt, 0.2, torch.Generator().manual_seed(0), block_rows=16)
    assert (some != links.s2t).any() and ((some >= 0) & (some < 120)).all()
