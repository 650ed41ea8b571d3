"""Adversarial training of the generator: Sequence GANs for text (Hung-yi Lee's GAN lecture 9, 2018).

Per written language L, a small discriminator D_L tells real monolingual sentences of L from the
model's translations into L. The generator (the shared Translator) learns to fool it, beside the
denoising and back-translation losses that keep the content. Sampling words is not
differentiable; `AdversaryMode` picks how the discriminator's verdict reaches the generator:

  gumbel:           decode with straight-through Gumbel-softmax samples (hard one-hot forward, soft
                    backward) fed back as inputs; D reads them through its table; loss -log D(fake).
  policy_gradient:  REINFORCE. Sampled words, per-step rewards log D(prefix_t) minus a moving
                    baseline, times the log-probability of each sampled word.
  constant_reward:  the control of Choshen et al. (2020): the same sampling and update with reward
                    1 and no baseline, which only sharpens the generator's own distribution.

Every random draw comes from a `torch.Generator` (never torch's global RNG: runs train in parallel
threads); categorical samples are Gumbel-max draws, argmax(logits + Gumbel noise), so one noise
source serves both modes and the draws are the same on any device.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from components.backtranslate.config import AdversaryConfig, AdversaryMode
from components.backtranslate.decode import output_limits
from components.backtranslate.model import Translator, batch_tensor
from components.backtranslate.vocab import BOS_ID, EOS_ID, PAD_ID


def gumbel_noise(shape: tuple[int, ...], gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """-log(-log U), U uniform from `gen` (a CPU generator: the same draws whatever the device)."""
    u = torch.rand(shape, generator=gen).clamp_(min=torch.finfo(torch.float32).tiny)
    return -torch.log(-torch.log(u)).to(device)


class Discriminator(nn.Module):
    """Scores every prefix of a sentence of one language: a logit that it is real, per position.

    Its own word table (not the generator's: D must not be able to move the generator's vectors),
    a causal GRU, so position t sees words 0..t only, and a linear head. Parameters start from
    `gen`, built on the meta device so construction draws nothing from the global RNG.
    """

    def __init__(self, vocab: int, hidden: int, gen: torch.Generator) -> None:
        super().__init__()
        with torch.device("meta"):
            self.table = nn.Parameter(torch.empty(vocab, hidden))
            self.gru = nn.GRU(hidden, hidden, batch_first=True)
            self.head = nn.Linear(hidden, 1)
        self.to_empty(device="cpu")
        k = hidden ** -0.5  # torch's own GRU and Linear initialisation: U(-k, k)
        with torch.no_grad():
            for name, p in self.named_parameters():
                p.copy_(torch.randn(p.shape, generator=gen) if name == "table"
                        else (2 * torch.rand(p.shape, generator=gen) - 1) * k)
        self.gru.flatten_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T) ids, or (B, T, V) distributions over the words (read as `probs @ table`, so a
        one-hot row reads exactly as its id) -> (B, T) logits, position t scoring the prefix 0..t."""
        words = F.embedding(x, self.table) if x.dtype == torch.long else x.float() @ self.table
        h, _ = self.gru(words)
        return self.head(h).squeeze(-1)


def last_logit(logits: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The sentence score: (B, T) per-prefix logits, (B,) lengths -> (B,) logit of each whole sentence."""
    return logits.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)


def prefix_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """(B,) lengths -> (B, width) bool, True at positions within each sentence."""
    return torch.arange(width, device=lengths.device) < lengths.unsqueeze(1)


@dataclass
class Fake:
    """Sentences the generator wrote: ids (B, T), PAD after each one's length (which counts its
    </s>; a sentence cut at its length limit has none); with Gumbel-softmax decoding also the
    straight-through samples (B, T, V) and the logits (B, T, V) they came from, both with gradients."""

    ids: torch.Tensor
    lengths: torch.Tensor
    soft: torch.Tensor | None = None
    logits: torch.Tensor | None = None


def sample(model: Translator, src: list[list[int]], src_lang: int, tgt_lang: int, gen: torch.Generator,
           device: torch.device, max_len_a: float, max_len_b: int, temperature: float | None = None) -> Fake:
    """Translate `src` (id lists without </s>) by sampling each word from the model's softmax.

    temperature None: plain samples, no gradient (policy gradient). A temperature: straight-through
    Gumbel-softmax samples fed back as the next inputs, differentiable w.r.t. the model.
    """
    limits = output_limits(src, max_len_a, max_len_b, model.config.max_positions - 1)
    limit = torch.tensor(limits, device=device)
    soft = temperature is not None
    with torch.set_grad_enabled(soft and torch.is_grad_enabled()):
        ids_in = batch_tensor(src, device, eos_id=EOS_ID)
        memory, mask = model.encode(ids_in, src_lang)
        cache = model.start(memory, ids_in, src_lang, tgt_lang)
        inputs: torch.Tensor = torch.full((len(src),), BOS_ID, dtype=torch.long, device=device)
        lengths, done = limit.clone(), torch.zeros(len(src), dtype=torch.bool, device=device)
        ids, samples, all_logits = [], [], []
        for t in range(max(limits)):
            logits = model.step(inputs, t, tgt_lang, mask, cache).float()
            noisy = logits + gumbel_noise(tuple(logits.shape), gen, device)
            word = noisy.argmax(-1)  # Gumbel-max: a sample of softmax(logits)
            ids.append(torch.where(done, PAD_ID, word))
            ended = ~done & (word == EOS_ID)
            lengths = torch.where(ended, t + 1, lengths)
            done = done | ended | (t + 1 >= limit)
            if soft:
                y = torch.softmax(noisy / temperature, -1)
                y = F.one_hot(word, y.shape[-1]).to(y.dtype) - y.detach() + y  # hard forward, soft backward
                samples.append(y)
                all_logits.append(logits)
                inputs = y
            else:
                inputs = word
            if bool(done.all()):
                break
    return Fake(torch.stack(ids, 1), lengths, torch.stack(samples, 1) if soft else None,
                torch.stack(all_logits, 1) if soft else None)


def entropy(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean entropy (nats) of softmax(logits) (B, T, V) over the positions where mask (B, T) holds."""
    logp = torch.log_softmax(logits.float(), -1)
    return (-(logp.exp() * logp).sum(-1) * mask).sum() / mask.sum().clamp(min=1)


def sampled_logprobs(model: Translator, src: list[list[int]], src_lang: int, tgt_lang: int,
                     fake: Fake) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher-forced pass over the sampled sentences: log-probabilities of the sampled words (B, T),
    with gradients, and the logits (B, T, V)."""
    device = fake.ids.device
    tgt_in = torch.cat([torch.full_like(fake.ids[:, :1], BOS_ID), fake.ids[:, :-1]], 1)
    logits = model(batch_tensor(src, device, eos_id=EOS_ID), src_lang, tgt_in, tgt_lang).float()
    return torch.log_softmax(logits, -1).gather(2, fake.ids.unsqueeze(2)).squeeze(2), logits


def policy_gradient_loss(logp: torch.Tensor, rewards: torch.Tensor, baseline: float,
                         mask: torch.Tensor) -> torch.Tensor:
    """REINFORCE: -mean over sampled words of (reward - baseline) * log p(word); all (B, T)."""
    advantage = (rewards - baseline).detach()
    return -(advantage * logp * mask).sum() / mask.sum().clamp(min=1)


def discriminator_step(disc: Discriminator, optimizer: torch.optim.Optimizer, real: torch.Tensor,
                       real_lengths: torch.Tensor, fake: torch.Tensor, fake_lengths: torch.Tensor,
                       smoothing: float) -> float:
    """One update on real (B_r, T_r) and fake (B_f, T_f) id batches: binary cross-entropy on every
    prefix (a prefix of a real sentence is real), so that per-prefix scores mean something for
    per-step rewards. Returns the accuracy of the sentence scores before the update."""
    losses, correct = [], 0
    for x, lengths, target in ((real, real_lengths, 1.0 - smoothing), (fake, fake_lengths, 0.0)):
        logits = disc(x)
        mask = prefix_mask(lengths, x.shape[1])
        bce = F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target), reduction="none")
        losses.append((bce * mask).sum() / mask.sum())
        correct += int(((last_logit(logits, lengths) > 0) == (target > 0.5)).sum())
    optimizer.zero_grad(set_to_none=True)
    (losses[0] + losses[1]).backward()
    optimizer.step()
    return correct / (len(real) + len(fake))


class Adversary:
    """The discriminators (one per written language), their optimizer and the reward baselines:
    training state that checkpoints keep (`state_dict`)."""

    def __init__(self, config: AdversaryConfig, vocab_sizes: tuple[int, int], device: torch.device,
                 seed: int) -> None:
        if config.mode == AdversaryMode.NONE:
            raise ValueError("an Adversary needs a mode other than none")
        self.config, self.device = config, device
        # its own seeded generator: constructing D leaves the run's random stream (noise, batches) as it was
        init = torch.Generator().manual_seed(seed)
        self.discs = nn.ModuleList(Discriminator(v, config.hidden, init) for v in vocab_sizes).to(device)
        self.optimizer = torch.optim.Adam(self.discs.parameters(), lr=config.lr, betas=(0.5, 0.999))
        self.baselines: list[float | None] = [None, None]  # per language written

    def state_dict(self) -> dict[str, Any]:
        return {"discs": self.discs.state_dict(), "optimizer": self.optimizer.state_dict(),
                "baselines": list(self.baselines)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.discs.load_state_dict(state["discs"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.baselines = list(state["baselines"])

    def step(self, model: Translator, sources: list[list[list[int]]], gen: torch.Generator,
             autocast: bool) -> tuple[torch.Tensor, dict[str, float]]:
        """The generator's adversarial loss for this step, both directions, after training each D_L on
        real sentences of L (`sources[L]`, id lists) against this step's translations into L.

        Returns the loss (with gradients into `model` only) and the step's `disc_accuracy`,
        `adv_reward` (D's mean probability that a translation is real) and `adv_loss`.
        """
        c, device = self.config, self.device
        gumbel = c.mode == AdversaryMode.GUMBEL
        fakes: list[Fake] = [None, None]  # type: ignore[list-item]  # indexed by the language written
        for lang in (0, 1):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                fakes[1 - lang] = sample(model, sources[lang], lang, 1 - lang, gen, device, c.max_len_a, c.max_len_b,
                                         c.temperature if gumbel else None)
        # D trains on detached fakes, in float32 (mixed precision is the generator's only)
        accuracy = []
        with torch.autocast(device.type, enabled=False):
            for lang in (0, 1):
                real = batch_tensor(sources[lang], device, eos_id=EOS_ID)
                real_lengths = torch.tensor([len(s) + 1 for s in sources[lang]], device=device)
                for i in range(c.disc_steps):
                    acc = discriminator_step(self.discs[lang], self.optimizer, real, real_lengths,
                                             fakes[lang].ids, fakes[lang].lengths, c.label_smoothing)
                    if i == 0:
                        accuracy.append(acc)
        self.discs.requires_grad_(False)  # the generator's loss reaches the model only
        try:
            total, scores = torch.zeros((), device=device), []
            for lang in (0, 1):
                written, fake = 1 - lang, fakes[1 - lang]
                mask = prefix_mask(fake.lengths, fake.ids.shape[1])
                if gumbel:
                    with torch.autocast(device.type, enabled=False):
                        sentence = last_logit(self.discs[written](fake.soft), fake.lengths)
                    loss = -F.logsigmoid(sentence).mean()  # non-saturating generator loss
                    logits = fake.logits
                else:
                    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                        logp, logits = sampled_logprobs(model, sources[lang], lang, written, fake)
                    with torch.no_grad(), torch.autocast(device.type, enabled=False):
                        prefix = self.discs[written](fake.ids)
                        sentence = last_logit(prefix, fake.lengths)
                    if c.mode == AdversaryMode.CONSTANT_REWARD:
                        loss = policy_gradient_loss(logp, torch.ones_like(logp), 0.0, mask)
                    else:
                        rewards = F.logsigmoid(prefix)  # r_t = log D(prefix_t)
                        mean = float((rewards * mask).sum() / mask.sum())
                        before = self.baselines[written]
                        baseline = mean if before is None else before
                        loss = policy_gradient_loss(logp, rewards, baseline, mask)
                        self.baselines[written] = c.baseline_decay * baseline + (1 - c.baseline_decay) * mean
                if c.entropy_weight > 0:
                    loss = loss - c.entropy_weight * entropy(logits, mask)
                total = total + c.side_weights[written] * loss
                scores.append(float(torch.sigmoid(sentence.detach()).mean()))
        finally:
            self.discs.requires_grad_(True)
        return total, {"disc_accuracy": sum(accuracy) / 2, "adv_reward": sum(scores) / 2,
                       "adv_loss": float(total.detach())}
