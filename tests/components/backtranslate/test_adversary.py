"""Adversarial training of the generator: the discriminator, the three ways its verdict reaches the
generator (each a measured property), and training end to end with resume."""
import os

import pytest
import torch
import torch.nn.functional as F

from components.backtranslate.adversary import (Adversary, Discriminator, discriminator_step, entropy, last_logit,
                                                policy_gradient_loss, prefix_mask, sample, sampled_logprobs)
from components.backtranslate.config import AdversaryConfig, AdversaryMode, FinetuneConfig, TranslateConfig
from components.backtranslate.model import batch_tensor
from components.backtranslate.train import new_model, prepare_corpora, train
from components.backtranslate.vocab import BOS_ID, EOS_ID
from tests.components.backtranslate.conftest import tiny_config
from tests.components.backtranslate.test_train import assert_resume_matches_uninterrupted, fresh

CPU = torch.device("cpu")


def adversarial(mode: str, **fields) -> object:
    """tiny_config with the adversary on from step 5 (after the word-by-word round)."""
    config = tiny_config(steps=20, checkpoint_every=10, tokens_per_batch=120, valid_sentences=8)
    return config.model_copy(update={"adversary": AdversaryConfig(mode=mode, start_step=5, hidden=16, **fields)})


def planted(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Real sentences count upwards (5 6 7 8 </s>), fake ones are random words; vocabulary 16."""
    start = torch.randint(5, 9, (n,), generator=gen)
    real = torch.cat([start[:, None] + torch.arange(4), torch.full((n, 1), EOS_ID)], 1)
    fake = torch.cat([torch.randint(5, 16, (n, 4), generator=gen), torch.full((n, 1), EOS_ID)], 1)
    return real, fake, torch.full((n,), 5)


@pytest.mark.parametrize("soft", [False, True])
def test_the_discriminator_learns_a_planted_real_language_from_ids_and_from_distributions(soft):
    gen = torch.Generator().manual_seed(0)
    disc = Discriminator(16, 16, gen)
    opt = torch.optim.Adam(disc.parameters(), lr=1e-2)
    read = (lambda x: F.one_hot(x, 16).float()) if soft else (lambda x: x)
    for _ in range(60):
        real, fake, lengths = planted(32, gen)
        discriminator_step(disc, opt, read(real), lengths, read(fake), lengths, smoothing=0.1)
    real, fake, lengths = planted(200, gen)  # held out
    with torch.no_grad():
        right = (last_logit(disc(read(real)), lengths) > 0).sum() + (last_logit(disc(read(fake)), lengths) < 0).sum()
        assert int(right) / 400 > 0.9
        # a one-hot distribution reads exactly as its id, at every prefix
        assert torch.equal(disc(F.one_hot(real, 16).float()), disc(real))


def test_gumbel_samples_carry_the_adversarial_gradient_into_the_generator(pair):
    config = tiny_config()
    tm, data = fresh(pair, config)
    gen = torch.Generator().manual_seed(0)
    src = data.train[0][:8]
    fake = sample(tm.model, src, 0, 1, gen, CPU, 1.3, 5, temperature=1.0)
    mask = prefix_mask(fake.lengths, fake.ids.shape[1])
    # forward, the samples are hard one-hot rows of the sampled ids
    hard = F.one_hot(fake.ids, tm.model.vocab_size(1)).float()
    torch.testing.assert_close(fake.soft[mask], hard[mask])
    disc = Discriminator(tm.model.vocab_size(1), 16, gen)
    loss = -F.logsigmoid(last_logit(disc(fake.soft), fake.lengths)).mean()
    tm.model.zero_grad()
    loss.backward()
    for p in (tm.model.tables[1], tm.model.out_bias[1], tm.model.proj.weight, tm.model.encoder[0].att.q.weight):
        assert p.grad is not None and p.grad.abs().sum() > 0


def first_word_probability(model, src, word: int) -> float:
    """Mean probability that the translation of `src` (language 0 -> 1) starts with `word`."""
    with torch.no_grad():
        logits = model(batch_tensor(src, CPU, eos_id=EOS_ID), 0, torch.full((len(src), 1), BOS_ID), 1)
    return float(torch.softmax(logits[:, 0], -1)[:, word].mean())


def policy_gradient_updates(model, src, gen, reward_logits, steps: int, baseline_decay: float | None,
                            lr: float = 3e-3) -> None:
    """`steps` REINFORCE updates of `model` on samples from `src`; reward_logits(ids) -> (B, T) logits
    of a fixed discriminator; baseline_decay None: constant reward 1 and no baseline."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    baseline = None
    for _ in range(steps):
        fake = sample(model, src, 0, 1, gen, CPU, 1.3, 5)
        logp, _ = sampled_logprobs(model, src, 0, 1, fake)
        mask = prefix_mask(fake.lengths, fake.ids.shape[1])
        if baseline_decay is None:
            loss = policy_gradient_loss(logp, torch.ones_like(logp), 0.0, mask)
        else:
            rewards = F.logsigmoid(reward_logits(fake.ids))
            mean = float((rewards * mask).sum() / mask.sum())
            baseline = mean if baseline is None else baseline
            loss = policy_gradient_loss(logp, rewards, baseline, mask)
            baseline = baseline_decay * baseline + (1 - baseline_decay) * mean
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_policy_gradient_raises_the_probability_of_the_word_a_fixed_discriminator_rewards(pair):
    tm, data = fresh(pair, tiny_config())
    src, word = data.train[0][:16], 10
    before = first_word_probability(tm.model, src, word)
    policy_gradient_updates(tm.model, src, torch.Generator().manual_seed(0),
                            lambda ids: 4.0 * (ids == word).float() - 2.0, steps=30, baseline_decay=0.9)
    after = first_word_probability(tm.model, src, word)
    assert after > before + 0.2, (before, after)


def sampled_entropy(model, src) -> float:
    """Mean entropy (nats) of the model's output distributions along samples of a fixed seed."""
    with torch.no_grad():
        fake = sample(model, src, 0, 1, torch.Generator().manual_seed(123), CPU, 1.3, 5)
        _, logits = sampled_logprobs(model, src, 0, 1, fake)
        return float(entropy(logits, prefix_mask(fake.lengths, fake.ids.shape[1])))


def test_constant_reward_only_sharpens_the_generator(pair):
    tm, data = fresh(pair, tiny_config())
    src = data.train[0][:16]
    before = sampled_entropy(tm.model, src)
    # the expected update of a constant reward is zero (E[grad log p] = 0); what it does is the drift
    # of sampled updates towards words already sampled: peakiness (Choshen et al. 2020, s.5)
    policy_gradient_updates(tm.model, src, torch.Generator().manual_seed(0), None, steps=40, baseline_decay=None,
                            lr=1e-2)
    after = sampled_entropy(tm.model, src)
    assert after < 0.6 * before, (before, after)


@pytest.mark.parametrize("mode", ["gumbel", "policy_gradient", "constant_reward"])
def test_each_mode_trains_records_the_adversary_and_resumes_exactly(pair, tmp_path, mode):
    full, rest = assert_resume_matches_uninterrupted(pair, adversarial(mode), tmp_path / "run.pt")
    for history in (full.history, rest.history):
        assert [r["step"] for r in history] == [10, 20]
        for r in history:
            assert 0 <= r["disc_accuracy"] <= 1 and 0 < r["adv_reward"] < 1 and r["adv_loss"] == r["adv_loss"]
    assert [r["disc_accuracy"] for r in rest.history] == pytest.approx([r["disc_accuracy"] for r in full.history])


def test_without_an_adversary_at_work_training_is_bit_identical_to_the_default(pair):
    # mode none with other fields changed, and an adversary that never starts (its discriminators
    # built, from their own generator): both leave the run's random draws and weights untouched
    base = tiny_config(steps=8, checkpoint_every=8, word_by_word_steps=4)
    configs = [base,
               base.model_copy(update={"adversary": AdversaryConfig(weight=5.0, start_step=0, hidden=8)}),
               base.model_copy(update={"adversary": AdversaryConfig(mode="gumbel", start_step=100)})]
    results = []
    for config in configs:
        tm, data = fresh(pair, config)
        results.append(train(tm, data, config))
    assert "disc_accuracy" not in results[0].history[0] and results[2].history[0]["disc_accuracy"] is None
    for other in results[1:]:
        for k, v in results[0].best_state.items():
            assert torch.equal(other.best_state[k], v), k


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("mode", ["gumbel", "policy_gradient", "constant_reward"])
def test_each_mode_trains_on_cuda_with_mixed_precision(pair, mode):
    config = adversarial(mode)
    config = config.model_copy(update={"train": config.train.model_copy(update={"steps": 8, "checkpoint_every": 8})})
    tm = new_model(config, pair.vocabs, pair.aligned, torch.device("cuda"))
    data = prepare_corpora(pair.train, pair.valid, pair.vocabs, pair.lexicons, config)
    row = train(tm, data, config).history[-1]
    assert row["step"] == 8 and 0 <= row["disc_accuracy"] <= 1 and 0 < row["adv_reward"] < 1


def test_side_weights_scale_each_directions_adversarial_loss(pair):
    # a zero factor leaves the translations into that side untouched by the adversary: no gradient
    # reaches its output bias, while the other side's does
    tm, data = fresh(pair, tiny_config())
    sources = [data.train[0][:8], data.train[1][:8]]
    grads = []
    for side_weights in ((1.0, 1.0), (1.0, 0.0)):
        config = AdversaryConfig(mode="gumbel", hidden=16, side_weights=side_weights)
        adversary = Adversary(config, (tm.model.vocab_size(0), tm.model.vocab_size(1)), CPU, seed=0)
        tm.model.zero_grad()
        loss, _ = adversary.step(tm.model, sources, torch.Generator().manual_seed(0), autocast=False)
        loss.backward()
        grads.append([float(b.grad.abs().sum()) if b.grad is not None else 0.0 for b in tm.model.out_bias])
    (both_0, both_1), (only_0, only_1) = grads
    assert both_0 > 0 and both_1 > 0
    assert only_0 == pytest.approx(both_0) and only_1 == 0.0


def test_continuations_split_the_cores_among_themselves_unless_told():
    base = TranslateConfig()
    modes = (AdversaryMode.NONE, AdversaryMode.GUMBEL)
    run = FinetuneConfig(modes=modes).translate_config(base, AdversaryMode.GUMBEL)
    assert run.train.threads == max(1, len(os.sched_getaffinity(0)) // 2) and run.adversary.mode == AdversaryMode.GUMBEL
    assert FinetuneConfig(modes=modes, threads=3).translate_config(base, AdversaryMode.NONE).train.threads == 3
