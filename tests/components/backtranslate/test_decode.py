"""Search: beam=1 is greedy, batching does not change results, limits hold, empty input works."""
import numpy as np
import pytest
import torch

from components.backtranslate.config import ModelConfig
from components.backtranslate.decode import beam_search, greedy, translate_ids
from components.backtranslate.model import Translator, batch_tensor, copy_targets
from components.backtranslate.vocab import EOS_ID, Vocabulary

CPU = torch.device("cpu")


def random_model(seed: int, copy: bool = False) -> Translator:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    vectors = [rng.normal(size=(30, 8)).astype(np.float32) for _ in range(2)]
    words = tuple(Vocabulary(lang, tuple(f"w{i}" for i in range(30))) for lang in ("xa", "xb"))
    model = Translator(ModelConfig(d_model=16, layers=1, heads=2, ff=32, vocabulary=25, max_positions=40,
                                   dropout=0.0, copying=copy), vectors, [np.zeros(30, bool)] * 2,
                       copy_targets(words) if copy else None)
    if copy:
        with torch.no_grad():  # copy scores that matter, so a cache bug would show
            model.copy_q.weight.mul_(8.0)
    with torch.no_grad():
        model.out_bias[1][3] = -1.0  # fewer immediate ends, so outputs have some length
    return model.eval()


SOURCES = [[5, 6, 7], [8, 9, 10, 11, 12, 13], [20], [14, 15, 16, 17]]


@pytest.mark.parametrize("seed", range(5))
def test_beam_of_one_is_greedy(seed):
    model = random_model(seed)
    assert beam_search(model, SOURCES, 0, 1, CPU, beam=1) == greedy(model, SOURCES, 0, 1, CPU)


@pytest.mark.parametrize("copy", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_batched_equals_one_by_one(seed, copy):
    model = random_model(seed, copy)
    together = greedy(model, SOURCES, 0, 1, CPU)
    assert together == [greedy(model, [s], 0, 1, CPU)[0] for s in SOURCES]
    beams = beam_search(model, SOURCES, 0, 1, CPU, beam=3)
    assert beams == [beam_search(model, [s], 0, 1, CPU, beam=3)[0] for s in SOURCES]


def test_outputs_respect_the_length_limit_and_keep_input_order():
    model = random_model(0)
    with torch.no_grad():
        model.out_bias[1][3] = -100.0  # never ends by itself
    for hyps in (greedy(model, SOURCES, 0, 1, CPU, max_len_a=1.0, max_len_b=2),
                 beam_search(model, SOURCES, 0, 1, CPU, beam=2, max_len_a=1.0, max_len_b=2)):
        assert [len(h) for h in hyps] == [len(s) + 2 for s in SOURCES]
    assert translate_ids(model, SOURCES, 0, 1, CPU, beam=2, batch_sentences=2) == beam_search(
        model, SOURCES, 0, 1, CPU, beam=2)


def test_empty_input():
    model = random_model(0)
    assert greedy(model, [], 0, 1, CPU) == [] and beam_search(model, [], 0, 1, CPU) == []


@pytest.mark.parametrize("copy", [False, True])
def test_incremental_steps_give_the_teacher_forced_scores(copy):
    """The key/value cache, the output table projected once per search and the copy keys change no score."""
    model = random_model(1, copy)
    src, tgt_in = batch_tensor(SOURCES, CPU, eos_id=EOS_ID), batch_tensor([[5, 6, 7, 8]] * len(SOURCES), CPU, bos=True)
    with torch.no_grad():
        full = model(src, 0, tgt_in, 1)
        memory, mask = model.encode(src, 0)
        cache = model.start(memory, src, 0, 1)
        steps = [model.step(tgt_in[:, t], t, 1, mask, cache) for t in range(tgt_in.shape[1])]
    assert cache.output is not None
    torch.testing.assert_close(torch.stack(steps, 1), full, rtol=1e-4, atol=1e-5)
