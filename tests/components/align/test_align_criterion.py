import inspect

import torch

from components.align.config import AlignConfig
from components.align.pipeline import align, evaluate_result
from components.align.config import CriterionConfig, CriterionKind, Retrieval, RetrievalConfig
from components.align.criterion import criterion_of, selection_criterion
from components.align.normalize import unit_length


def test_criterion_matches_independent_computation():
    g = torch.Generator().manual_seed(0)
    src, tgt = unit_length(torch.randn(400, 16, generator=g)), unit_length(torch.randn(350, 16, generator=g))
    config = CriterionConfig(n_most_frequent=100)
    sims = src.double() @ tgt.double().T
    csls = 2 * sims - sims.topk(10, dim=1).values.mean(1)[:, None] - sims.topk(10, dim=0).values.mean(0)[None, :]
    best = csls[:100].argmax(dim=1)
    expected = sims[torch.arange(100), best].mean().item()
    assert abs(selection_criterion(src, tgt, config, RetrievalConfig()) - expected) < 1e-5


def test_criterion_clamps_to_vocabulary_and_rises_with_alignment():
    g = torch.Generator().manual_seed(1)
    src = unit_length(torch.randn(300, 16, generator=g))
    noisy = unit_length(src + 0.1 * torch.randn(300, 16, generator=g))
    unrelated = unit_length(torch.randn(300, 16, generator=g))
    config = CriterionConfig()  # 10000 most frequent > 300 words: clamped
    aligned = selection_criterion(src, noisy, config, RetrievalConfig())
    assert aligned > selection_criterion(src, unrelated, config, RetrievalConfig()) + 0.15
    # plain nearest neighbours: the mean of each source word's best cosine, computed here directly
    nn = selection_criterion(src, noisy, config.model_copy(update={"retrieval": Retrieval.NN}), RetrievalConfig())
    assert abs(nn - (src.double() @ noisy.double().T).max(dim=1).values.mean().item()) < 1e-5


def test_criterion_declares_its_direction_and_selects_the_best():
    criterion = criterion_of(CriterionConfig())
    assert criterion.higher_is_better and "mean CSLS cosine" in criterion.name
    assert "translate back" in criterion_of(CriterionConfig(kind=CriterionKind.MUTUAL_NN)).name
    runs = [("a", 0.31), ("b", 0.47), ("c", 0.12)]
    assert criterion.best(runs, lambda r: r[1])[0] == "b"
    assert criterion.model_copy(update={"higher_is_better": False}).best(runs, lambda r: r[1])[0] == "c"


def test_criterion_and_selection_take_no_dictionary():
    for fn in (selection_criterion, align):
        names = set(inspect.signature(fn).parameters)
        assert not names & {"pairs", "dictionary", "dico", "test_pairs", "gold"}, fn.__name__


def test_criterion_unchanged_when_test_pairs_change(planted, cpu):
    config = AlignConfig(vecmap={"stochastic_interval": 10}, refine={"n_refinement": 1})
    result = align(planted.src, planted.tgt, config, cpu, seed=0)
    true_pairs = planted.pairs
    scrambled = [(s, planted.pairs[(i + 7) % len(planted.pairs)][1]) for i, (s, _) in enumerate(planted.pairs)]
    good = evaluate_result(result, true_pairs, config, cpu).metrics["p1_csls_s2t"]
    bad = evaluate_result(result, scrambled, config, cpu).metrics["p1_csls_s2t"]
    assert good > 0.8 and bad < 0.05  # the test dictionary matters to the test...
    again = align(planted.src, planted.tgt, config, cpu, seed=0)
    assert again.criterion == result.criterion  # ...and not to the criterion, which never sees it


def test_mutual_criterion_counts_words_that_translate_back():
    g = torch.Generator().manual_seed(2)
    src = unit_length(torch.randn(200, 16, generator=g))
    config = CriterionConfig(kind=CriterionKind.MUTUAL_NN, n_most_frequent=50)
    assert selection_criterion(src, src.clone(), config, RetrievalConfig()) == 1.0
    other = unit_length(torch.randn(300, 16, generator=g))
    sims = src.double() @ other.double().T
    r_s, r_t = sims.topk(10, dim=1).values.mean(1), sims.topk(10, dim=0).values.mean(0)
    csls = 2 * sims - r_s[:, None] - r_t[None, :]
    fwd, bwd = csls.argmax(dim=1), csls.argmax(dim=0)
    expected = (bwd[fwd[:50]] == torch.arange(50)).double().mean().item()
    assert abs(selection_criterion(src, other, config, RetrievalConfig()) - expected) < 1e-6
