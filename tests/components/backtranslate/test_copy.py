"""Copying source units (CopyNet's joint softmax): the distribution it gives, the spelling map it
copies through, and a trained model that copies words it never saw."""
import numpy as np
import torch
import torch.nn.functional as F

from components.backtranslate.config import ModelConfig
from components.backtranslate.decode import greedy
from components.backtranslate.model import Translator, batch_tensor, copy_targets, joint_log_probs
from components.backtranslate.vocab import BLANK_ID, EOS_ID, PAD_ID, SPECIALS, UNK_ID, Vocabulary

CPU = torch.device("cpu")


def test_joint_softmax_sums_generating_and_copying():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 7, generator=g)
    copy = torch.randn(2, 3, 4, generator=g)
    targets = torch.tensor([[5, 5, 2, 0], [1, 2, 3, 4]])
    copy[1] = float("-inf")  # the second sentence has nothing to copy
    lp = joint_log_probs(logits, copy, targets)
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(2, 3))
    # by hand: word w gets exp(gen_w) plus exp(copy_j) of every position j that copies to it
    z = logits[0].exp().sum(-1) + copy[0].exp().sum(-1)
    word5 = (logits[0, :, 5].exp() + copy[0, :, 0].exp() + copy[0, :, 1].exp()) / z
    torch.testing.assert_close(lp[0, :, 5].exp(), word5)
    torch.testing.assert_close(lp[0, :, 6].exp(), logits[0, :, 6].exp() / z)
    torch.testing.assert_close(lp[1], torch.log_softmax(logits[1], -1))
    # gradients stay finite where nothing is copied
    logits.requires_grad_(True)
    joint_log_probs(logits, copy, targets).sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_units_copy_to_the_same_spelling_of_the_other_side():
    src = (*SPECIALS, "jesus", "the", "42")
    tgt = (*SPECIALS, "le", "42", "jesus")
    a, b = copy_targets((Vocabulary("xa", src), Vocabulary("xb", tgt)))
    n = len(SPECIALS)
    assert a.tolist() == [-1, UNK_ID, -1, -1, -1, n + 2, -1, n + 1]
    assert b.tolist() == [-1, UNK_ID, -1, -1, -1, -1, n + 2, n]
    assert BLANK_ID < n and EOS_ID < n


def _train(copying: bool, steps: int = 300, seed: int = 0, in_denoising: bool = False
           ) -> tuple[Translator, np.random.Generator]:
    """Copy random sentences of words 5..39 from language 0 into language 1, which spells them alike."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    words = (*SPECIALS, *(f"w{i}" for i in range(60 - len(SPECIALS))))
    vectors = [rng.normal(size=(60, 8)).astype(np.float32) for _ in range(2)]
    model = Translator(ModelConfig(d_model=32, layers=1, heads=2, ff=64, dropout=0.0, copying=copying,
                                   copy_in_denoising=in_denoising),
                       vectors, [np.zeros(60, bool)] * 2,
                       copy_targets((Vocabulary("xa", words), Vocabulary("xb", words))) if copying else None)
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    for _ in range(steps):
        batch = [rng.integers(len(SPECIALS), 40, size=6).tolist() for _ in range(32)]
        logits = model(batch_tensor(batch, CPU, eos_id=EOS_ID), 0, batch_tensor(batch, CPU, bos=True), 1)
        loss = F.cross_entropy(logits.flatten(0, 1), batch_tensor(batch, CPU, eos_id=EOS_ID).flatten(),
                               ignore_index=PAD_ID)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, rng


def test_a_model_that_copies_carries_words_it_never_saw():
    """Trained on words 5..39 only, tested on sentences of words 40..59 (their rows never trained):
    the copying model writes them out, the plain one cannot."""
    accuracy = {}
    for copying in (False, True):
        model, rng = _train(copying)
        test = [rng.integers(40, 60, size=6).tolist() for _ in range(50)]
        out = greedy(model, test, 0, 1, CPU)
        accuracy[copying] = np.mean([a == b for o, t in zip(out, test) for a, b in zip(o + [0] * 6, t)])
    assert accuracy[True] > 0.9 and accuracy[False] < 0.2, accuracy


def test_denoising_does_not_copy():
    """A side reconstructing itself gets the plain vocabulary scores: the copy weights change nothing there."""
    model, _ = _train(True, steps=1)
    src = batch_tensor([[5, 6, 7], [8, 9]], CPU, eos_id=EOS_ID)
    tgt_in = batch_tensor([[5, 6, 7], [8, 9]], CPU, bos=True)
    with torch.no_grad():
        same, across = model(src, 0, tgt_in, 0), model(src, 0, tgt_in, 1)
        model.copy_q.weight.mul_(3.0)
        torch.testing.assert_close(model(src, 0, tgt_in, 0), same)
        assert not torch.allclose(model(src, 0, tgt_in, 1), across)


def test_denoising_copies_each_unit_to_itself_when_asked():
    """With copy_in_denoising a side reconstructing itself copies each unit to itself (the specials,
    here </s>, never); without it there is nothing to copy."""
    src = batch_tensor([[7, 9]], CPU, eos_id=EOS_ID)
    tgt_in = batch_tensor([[7, 9]], CPU, bos=True)
    plain, _ = _train(True, steps=1)
    model, _ = _train(True, steps=1, in_denoising=True)
    with torch.no_grad():
        assert plain.copy_source(plain.encode(src, 0)[0], src, 0, 0) is None
        _, targets = model.copy_source(model.encode(src, 0)[0], src, 0, 0)
        assert targets.tolist() == [[7, 9, -1]]
        before = model(src, 0, tgt_in, 0)
        model.copy_q.weight.mul_(3.0)
        assert not torch.allclose(model(src, 0, tgt_in, 0), before)
