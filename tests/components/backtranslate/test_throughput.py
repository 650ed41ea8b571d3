"""FLOP accounting against torch's own counter, the matmul peak, and the training summary's throughput keys."""
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from components.backtranslate.decode import greedy
from components.backtranslate.throughput import greedy_call_flops, matmul_peak, train_flops
from components.backtranslate.train import new_model, prepare_corpora, sequence_loss, train
from components.backtranslate.vocab import EOS_ID
from tests.components.backtranslate.conftest import tiny_config

CPU = torch.device("cpu")
SRC = [[5, 6, 7, 8], [9, 10, 11], [12, 5], [6, 7, 8, 9, 10]]
TGT = [[5, 6, 7, 8, 9, 10], [9, 10], [11], [12, 13, 14]]


def counted(fn) -> int:
    """Matrix-product FLOPs torch counts while `fn` runs; attention through the math kernel, whose
    batched products the counter sees (the fused CPU kernel is not in its table)."""
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


@pytest.fixture(params=[False, True], ids=["plain", "copying"])
def tiny(pair, request):
    config = tiny_config()
    config = config.model_copy(update={"model": config.model.model_copy(update={"copying": request.param})})
    return config, new_model(config, pair.vocabs, pair.aligned, CPU).model


def test_training_flops_match_torchs_count_of_forward_and_backward(tiny, pair):
    config, model = tiny

    def step():
        loss, _ = sequence_loss(model, SRC, 0, TGT, 1, CPU, 0.1)
        loss.backward()

    expected = train_flops(config.model, len(SRC), 6, 7, model.vocab_size(1), pair.aligned[0].dim)
    assert counted(step) == pytest.approx(expected, rel=0.005)


@pytest.mark.parametrize("ends_at_once", [False, True])
def test_generation_flops_match_torchs_count_of_greedy_search(tiny, pair, ends_at_once):
    config, model = tiny
    if ends_at_once:  # </s> first: one step; otherwise the untrained model runs to the length limit
        with torch.no_grad():
            model.out_bias[1][EOS_ID] = 1e4
    out: list[list[int]] = []
    # the same search under no_grad: the counter's module hooks cannot attach to inference-mode tensors
    search = torch.no_grad()(greedy.__wrapped__)
    flops = counted(lambda: out.extend(search(model, SRC, 0, 1, CPU, max_len_a=1.3, max_len_b=5)))
    expected = greedy_call_flops(config.model, SRC, out, model.vocab_size(1), pair.aligned[0].dim, 1.3, 5)
    assert flops == pytest.approx(expected, rel=0.005)
    assert (max(map(len, out)) == 0) == ends_at_once


def test_matmul_peak_is_a_positive_rate_and_leaves_the_global_rng_alone():
    before = torch.get_rng_state()
    assert matmul_peak([(64, 32, 48), (16, 32, 100)], CPU, repeats=2) > 0
    assert matmul_peak([(64, 32, 48)], CPU, repeats=2, dtype=torch.bfloat16) > 0  # autocast's type
    assert torch.equal(torch.get_rng_state(), before)


def test_training_summary_reports_work_rate_and_fraction_of_the_peak(pair):
    config = tiny_config(steps=10, checkpoint_every=5, word_by_word_steps=5)
    tm = new_model(config, pair.vocabs, pair.aligned, CPU)
    summary = train(tm, prepare_corpora(pair.train, pair.valid, pair.vocabs, pair.lexicons, config), config).summary()
    assert summary["steps"] == 10 and summary["tokens_per_second"] > 0
    assert summary["train_flops"] > 0 and summary["generation_flops"] > 0  # steps 5..9 back-translate greedily
    assert summary["step_seconds"] > 0 and summary["achieved_flops_per_second"] > 0
    assert summary["peak_flops_per_second"] > 0 and 0 < summary["peak_fraction"] <= 1.5


def test_training_runs_on_the_configured_threads_and_restores_the_process_setting(pair):
    config = tiny_config(steps=2, checkpoint_every=2, threads=1)
    tm = new_model(config, pair.vocabs, pair.aligned, CPU)
    seen: list[int] = []
    torch.set_num_threads(2)  # the conftest fixture restores its own setting afterwards
    train(tm, prepare_corpora(pair.train, pair.valid, pair.vocabs, pair.lexicons, config), config,
          on_step=lambda *_: seen.append(torch.get_num_threads()))
    assert seen == [1, 1] and torch.get_num_threads() == 2
