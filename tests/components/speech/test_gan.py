from concurrent.futures import ThreadPoolExecutor

import torch

from components.speech.config import DiscriminatorConfig, GanConfig, GeneratorConfig, SupervisedConfig
from components.speech.gan import (Discriminator, Generator, join_segments, ngram_targets, odm_loss,
                                   pad_batch, train_gan, transcribe)
from components.speech.supervised import most_frequent_phone_baseline, pseudo_labels, train_supervised

N = 6  # phones of the planted problem


def _planted(seed: int, n_utt: int = 200, length: int = 30):
    """Text from a fixed, asymmetric Markov chain over N phones; audio segments are noisy
    one-hot codes of other sentences' phones, each phone spoken as 1-2 segments and seen
    through a fixed permutation. The generator must learn the inverse permutation."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(N, generator=g)
    # a fixed, irregular chain: every phone has its own successors and frequency, so no
    # relabelling of the phones keeps the bigram statistics (the mapping is identifiable)
    trans = torch.tensor([[0.0, 0.9, 0.1, 0.0, 0.0, 0.0],
                          [0.0, 0.0, 0.6, 0.0, 0.4, 0.0],
                          [0.5, 0.0, 0.0, 0.5, 0.0, 0.0],
                          [0.0, 0.0, 0.0, 0.0, 0.2, 0.8],
                          [0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
                          [0.3, 0.0, 0.7, 0.0, 0.0, 0.0]])

    def sentence() -> list[int]:
        s = [int(torch.randint(N, (1,), generator=g))]
        while len(s) < length:
            s.append(int(torch.multinomial(trans[s[-1]], 1, generator=g)))
        return s

    text = [sentence() for _ in range(n_utt)]
    audio, labels = [], []
    for _ in range(n_utt):
        phones = sentence()
        reps = torch.randint(1, 3, (len(phones),), generator=g)
        seq = torch.repeat_interleave(torch.tensor(phones), reps)
        x = torch.nn.functional.one_hot(perm[seq], N).float() + 0.1 * torch.randn(len(seq), N, generator=g)
        audio.append(x)
        labels.append(seq.tolist())
    return audio, text, labels


def test_join_segments_averages_runs_of_the_same_argmax():
    logits = torch.tensor([[[2.0, 0.0], [4.0, 0.0], [0.0, 1.0], [9.0, 9.0]]])
    mask = torch.tensor([[True, True, True, False]])
    joined, jmask = join_segments(logits, mask)
    assert jmask.tolist() == [[True, True]]
    assert torch.allclose(joined[0], torch.tensor([[3.0, 0.0], [0.0, 1.0]]))


def test_shapes_and_padding():
    gen = Generator(8, N, GeneratorConfig(generator_hidden=16))
    disc = Discriminator(N, DiscriminatorConfig(discriminator_dim=16))
    x, mask = pad_batch([torch.randn(5, 8), torch.randn(3, 8)])
    assert x.shape == (2, 5, 8) and mask.sum().item() == 8
    logits = gen(x, mask)
    assert logits.shape == (2, 5, N)
    assert disc(logits.softmax(-1), mask).shape == (2,)


def test_odm_loss_is_lowest_for_the_text_distribution():
    target = torch.tensor([[0.0, 0.5], [0.5, 0.0]])
    alt = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]])
    same = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    assert odm_loss(alt, mask, target) < odm_loss(same, mask, target)


def _small_cfg(steps: int) -> GanConfig:
    return GanConfig(gan_steps=steps, gan_batch_size=16, gan_eval_every=20, gan_crop=24,
                     generator=GeneratorConfig(generator_kernel=1, generator_hidden=0, generator_lr=2e-3,
                                               generator_dropout=0.0),
                     discriminator=DiscriminatorConfig(discriminator_dim=16, discriminator_kernel=3,
                                                       discriminator_dropout=0.0))


def test_odm_prefers_the_planted_mapping():
    audio, text, labels = _planted(0)
    target = ngram_targets([torch.tensor(t) for t in text], N)
    x, mask = pad_batch(audio)
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(0))  # as _planted draws it

    def loss_of(code_to_phone: torch.Tensor) -> float:
        w = torch.full((N, N), -10.0)
        w[torch.arange(N), code_to_phone] = 10.0
        joined, jmask = join_segments(x @ w, mask)
        return float(odm_loss(joined.softmax(-1) * jmask[..., None], jmask, target))

    truth = torch.argsort(perm)
    assert loss_of(truth) < loss_of(truth.roll(1)) and loss_of(truth) < loss_of(torch.zeros(N, dtype=torch.long))


def test_discriminator_learns_and_training_is_reproducible_and_resumable():
    audio, text, _ = _planted(0, n_utt=60)
    cfg = _small_cfg(60)
    rows = []
    full = train_gan(audio, text, N, cfg, torch.device("cpu"), seed=0,
                     progress=lambda step, row: rows.append(row))
    assert [r["step"] for r in rows] == [20, 40, 60]
    assert rows[-1]["loss_d"] < 2 * 0.6931  # D beats chance (BCE of a coin, real + fake)
    again = train_gan(audio, text, N, cfg, torch.device("cpu"), seed=0)
    assert all(torch.equal(full.generator_state[k], again.generator_state[k]) for k in full.generator_state)
    saved = []
    train_gan(audio, text, N, _small_cfg(40), torch.device("cpu"), seed=0, checkpoint=saved.append)
    resumed = train_gan(audio, text, N, cfg, torch.device("cpu"), seed=0, resume=saved[-1])
    assert resumed.history[-1]["step"] == 60
    assert all(torch.allclose(full.generator_state[k], resumed.generator_state[k], atol=1e-6)
               for k in full.generator_state)


def test_seeds_trained_in_parallel_threads_match_sequential_runs():
    # Dropout and Gumbel noise on: each seed draws from its own generators, not the global RNG.
    audio, text, _ = _planted(0, n_utt=40)
    base = _small_cfg(30)
    cfg = base.model_copy(update={
        "generator": base.generator.model_copy(update={"generator_dropout": 0.2, "generator_gumbel": True}),
        "discriminator": base.discriminator.model_copy(update={"discriminator_dropout": 0.2})})
    cpu = torch.device("cpu")
    alone = [train_gan(audio, text, N, cfg, cpu, seed=s).generator_state for s in (0, 1)]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda s: train_gan(audio, text, N, cfg, cpu, seed=s).generator_state, (0, 1)))
    for a, b in zip(alone, together):
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(alone[0]["net.weight"], alone[1]["net.weight"])
    # and a resumed run continues the same noise stream
    saved = []
    train_gan(audio, text, N, cfg.model_copy(update={"gan_steps": 20}), cpu, seed=0, checkpoint=saved.append)
    resumed = train_gan(audio, text, N, cfg, cpu, seed=0, resume=saved[-1]).generator_state
    assert all(torch.allclose(alone[0][k], resumed[k], atol=1e-6) for k in resumed)


def test_best_generator_is_kept_by_the_score():
    audio, text, _ = _planted(0, n_utt=30)
    scores = iter([3.0, 1.0, 2.0])
    res = train_gan(audio, text, N, _small_cfg(60), torch.device("cpu"), seed=0,
                    score=lambda hyps: next(scores))
    assert res.step == 40 and res.score == 1.0


def test_supervised_reference_fits_labels_and_baseline_is_trivial():
    audio, text, labels = _planted(1, n_utt=60)
    res = train_supervised(audio, labels, N, GeneratorConfig(generator_kernel=1),
                           SupervisedConfig(supervised_steps=150, supervised_hidden=0, supervised_lr=1e-2),
                           torch.device("cpu"), seed=0)
    gen = res.generator(GeneratorConfig(generator_kernel=1), torch.device("cpu"))
    pl = pseudo_labels(gen, audio, torch.device("cpu"))
    acc = sum(a == b for p, l in zip(pl, labels) for a, b in zip(p, l)) / sum(map(len, labels))
    assert acc > 0.95
    hyps = transcribe(gen, audio[:2], torch.device("cpu"))
    assert all(h[i] != h[i + 1] for h in hyps for i in range(len(h) - 1))  # repeats merged
    assert most_frequent_phone_baseline(text, 3) == [[most_frequent_phone_baseline(text, 1)[0][0]]] * 3


def test_generator_keeps_length_for_even_and_odd_widths_like_same_padding():
    import warnings

    x = torch.randn(2, 7, 6)
    for k, hidden in ((4, 0), (5, 0), (4, 8)):
        g = Generator(6, N, GeneratorConfig(generator_kernel=k, generator_hidden=hidden, generator_dropout=0)).eval()
        first = g.net if hidden == 0 else g.net[0]
        same = torch.nn.Conv1d(6, first.out_channels, k, padding="same")
        same.load_state_dict(first.state_dict())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = same(x.transpose(1, 2))
        got = first(torch.nn.functional.pad(x.transpose(1, 2), g.pad))
        assert torch.allclose(want, got, atol=1e-6) and g(x).shape == (2, 7, N)


def test_training_can_start_from_given_generator_weights():
    audio, text, labels = _planted(1, n_utt=60)
    cfg = _small_cfg(60)
    cpu = torch.device("cpu")
    fitted = train_supervised(audio, labels, N, cfg.generator,
                              SupervisedConfig(supervised_steps=150, supervised_hidden=0, supervised_lr=1e-2), cpu, 0)
    frozen = cfg.model_copy(update={"generator": cfg.generator.model_copy(update={"generator_lr": 1e-12})})
    kept = train_gan(audio, text, N, frozen, cpu, seed=0, start=fitted.generator_state).generator_state
    assert all(torch.allclose(kept[k], fitted.generator_state[k], atol=1e-6) for k in kept)
    fresh = train_gan(audio, text, N, frozen, cpu, seed=0).generator_state
    assert not torch.allclose(fresh["net.weight"], fitted.generator_state["net.weight"])
