"""wav2vec-U style GAN: segment features -> phone distributions, judged against phonemised text.

Generator: dropout + 1-D convolution over segments (optionally one hidden layer) -> phone
logits; adjacent segments with the same argmax are joined (their logits averaged), so
over-segmented audio still yields about one output per phone.
Discriminator: a small 1-D conv net over phone-distribution sequences, one logit per sequence
(mean over positions). Real = one-hot phonemised text; fake = the generator's softmax (or
hard Gumbel-softmax) outputs.
Generator loss = adversarial + smoothness (adjacent logits) + code penalty (low phone-usage
perplexity); discriminator loss = real/fake BCE + gradient penalty.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from components.errors import InputError, UnpairedError
from components.speech.config import DiscriminatorConfig, GanConfig, GeneratorConfig


class SeededDropout(nn.Module):
    """Dropout drawing its masks from `generator` when one is set, so that several trainings
    running in threads of one process (GAN seeds as parallel tasks) do not share the global
    RNG and each stays reproducible."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape, generator=self.generator, device=x.device) >= self.p
        return x * keep / (1 - self.p)


def seed_generators(seed: int, device: torch.device | str) -> tuple[torch.Generator, torch.Generator]:
    """(noise, init) of one training run: dropout/Gumbel noise on `device`, weight init on the CPU."""
    return torch.Generator(device=device).manual_seed(seed + 1), torch.Generator().manual_seed(seed)


def seed_module(module: nn.Module, noise: torch.Generator, init: torch.Generator) -> None:
    """Re-draw every convolution's weights from `init` (CPU) with PyTorch's default distribution
    (Kaiming-uniform, a=sqrt(5); bias U(+-1/sqrt(fan_in))), and make every SeededDropout
    draw from `noise` (on the module's device). No global RNG is drawn from."""
    for m in module.modules():
        if isinstance(m, nn.Conv1d):
            with torch.no_grad():
                w = torch.empty(m.weight.shape)
                nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=init)
                m.weight.copy_(w)
                if m.bias is not None:
                    bound = 1 / math.sqrt(m.weight[0].numel())
                    m.bias.copy_(torch.empty(m.bias.shape).uniform_(-bound, bound, generator=init))
        elif isinstance(m, SeededDropout):
            m.generator = noise


class Generator(nn.Module):
    """(batch, segments, in_dim) features -> (batch, segments, n_phones) logits."""

    def __init__(self, in_dim: int, n_phones: int, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.in_dim, self.n_phones = in_dim, n_phones
        self.dropout = SeededDropout(cfg.generator_dropout)
        k = cfg.generator_kernel
        # "same" output length for any width: (k - 1) // 2 frames of zeros before, the rest after
        # (what padding="same" does, without its warning for even widths)
        self.pad = ((k - 1) // 2, k // 2)
        if cfg.generator_hidden:
            self.net = nn.Sequential(
                nn.Conv1d(in_dim, cfg.generator_hidden, k), nn.GELU(),
                SeededDropout(cfg.generator_dropout),
                nn.Conv1d(cfg.generator_hidden, n_phones, 1))
        else:
            self.net = nn.Conv1d(in_dim, n_phones, k)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, T, in_dim); mask: (B, T) bool, True at real segments. Returns (B, T, P)."""
        if mask is not None:
            x = x * mask[..., None]
        return self.net(F.pad(self.dropout(x).transpose(1, 2), self.pad)).transpose(1, 2)


class Discriminator(nn.Module):
    """(batch, length, n_phones) distributions -> (batch,) real-vs-generated logits."""

    def __init__(self, n_phones: int, cfg: DiscriminatorConfig) -> None:
        super().__init__()
        k, d = cfg.discriminator_kernel, cfg.discriminator_dim
        layers: list[nn.Module] = [nn.Conv1d(n_phones, d, k, padding="same")]
        for _ in range(cfg.discriminator_layers - 1):
            layers += [SeededDropout(cfg.discriminator_dropout), nn.GELU(),
                       nn.Conv1d(d, d, k, padding="same")]
        layers += [SeededDropout(cfg.discriminator_dropout), nn.GELU(), nn.Conv1d(d, 1, k, padding="same")]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x: (B, L, P); mask: (B, L) bool. Returns (B,) logits (mean over valid positions)."""
        m = mask[..., None].to(x.dtype)
        y = self.net((x * m).transpose(1, 2)).transpose(1, 2)  # (B, L, 1)
        return (y * m).sum((1, 2)) / m.sum((1, 2)).clamp_min(1)


def join_segments(logits: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Average the logits of adjacent segments that share an argmax.

    logits: (B, T, P); mask: (B, T) bool. Returns joined logits (B, T', P) and mask (B, T').
    Differentiable with respect to the logits (the grouping itself is not).
    """
    B, T, P = logits.shape
    pred = logits.detach().argmax(-1)
    new = torch.ones_like(pred, dtype=torch.bool)
    new[:, 1:] = pred[:, 1:] != pred[:, :-1]
    new &= mask
    run = torch.cumsum(new.long(), 1) - 1  # run index within each utterance
    lengths = new.sum(1)
    Tp = int(lengths.max()) if B else 0
    flat = (torch.arange(B, device=logits.device)[:, None] * Tp + run.clamp_min(0))[mask]
    sums = torch.zeros(B * max(Tp, 1), P, device=logits.device, dtype=logits.dtype)
    sums = sums.index_add(0, flat, logits[mask])
    counts = torch.zeros(B * max(Tp, 1), device=logits.device, dtype=logits.dtype)
    counts = counts.index_add(0, flat, torch.ones_like(flat, dtype=logits.dtype))
    out = (sums / counts.clamp_min(1)[:, None]).view(B, max(Tp, 1), P)
    out_mask = torch.arange(max(Tp, 1), device=logits.device)[None] < lengths[:, None]
    return out, out_mask


def pad_batch(seqs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """List of (T_i, ...) tensors -> padded (B, T_max, ...) and mask (B, T_max) bool."""
    lengths = torch.tensor([s.shape[0] for s in seqs])
    padded = nn.utils.rnn.pad_sequence(list(seqs), batch_first=True)
    mask = torch.arange(padded.shape[1])[None] < lengths[:, None]
    return padded, mask.to(padded.device)


def gradient_penalty(disc: Discriminator, real: torch.Tensor, real_mask: torch.Tensor,
                     fake: torch.Tensor, fake_mask: torch.Tensor,
                     gen: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP penalty E[(||grad D(x_hat)|| - 1)^2] at random interpolates of real and fake
    (both cut to their common length). real, fake: (B, L, P). Returns a scalar."""
    L = min(real.shape[1], fake.shape[1])
    B = min(real.shape[0], fake.shape[0])
    alpha = torch.rand(B, 1, 1, generator=gen).to(real.device)
    x = (alpha * real[:B, :L] + (1 - alpha) * fake[:B, :L]).requires_grad_(True)
    mask = real_mask[:B, :L] | fake_mask[:B, :L]
    score = disc(x, mask)
    (grad,) = torch.autograd.grad(score.sum(), x, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def ngram_targets(text: Sequence[torch.Tensor], n_phones: int) -> torch.Tensor:
    """Bigram distribution of the text, (n_phones, n_phones) summing to 1 (add-0.01 smoothed)."""
    counts = torch.full((n_phones, n_phones), 0.01)
    for t in text:
        if t.shape[0] > 1:
            counts.index_put_((t[:-1], t[1:]), torch.ones(t.shape[0] - 1), accumulate=True)
    return counts / counts.sum()


def odm_loss(probs: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Empirical output distribution matching (Liu et al. 2017): cross-entropy of the text's
    bigram distribution `target` (P, P) against the expected bigram distribution of the
    generated sequences probs (B, L, P) with mask (B, L). Minimal when they agree."""
    pair = (mask[:, 1:] & mask[:, :-1]).to(probs.dtype)[..., None]
    a, b = probs[:, :-1] * pair, probs[:, 1:]
    expected = torch.einsum("blp,blq->pq", a, b) / pair.sum().clamp_min(1)
    return -(target * torch.log(expected + 1e-6)).sum()


def unigram_targets(text: Sequence[torch.Tensor], n_phones: int) -> torch.Tensor:
    """Phone frequencies of the text, (n_phones,) summing to 1 (add-0.01 smoothed)."""
    counts = torch.full((n_phones,), 0.01)
    for t in text:
        counts.index_add_(0, t, torch.ones(t.shape[0]))
    return counts / counts.sum()


def unigram_loss(probs: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """KL(target || batch phone usage): how far the generated phones' frequencies (the mean of
    probs (B, L, P) over valid positions of mask (B, L)) are from the text's `target` (P,).
    Zero when they agree; unlike the code penalty, which pushes usage towards all phones
    equally, it is minimal at the text's own frequencies, which a right transcription has."""
    usage = probs[mask].mean(0)
    return (target * (torch.log(target) - torch.log(usage + 1e-7))).sum()


def gumbel_softmax(logits: torch.Tensor, tau: float, generator: torch.Generator) -> torch.Tensor:
    """Hard Gumbel-softmax (straight-through) with noise drawn from `generator`; logits (..., P)."""
    u = torch.rand(logits.shape, generator=generator, device=logits.device).clamp(1e-10, 1 - 1e-10)
    soft = ((logits - torch.log(-torch.log(u))) / tau).softmax(-1)
    hard = F.one_hot(soft.argmax(-1), soft.shape[-1]).to(soft.dtype)
    return hard - soft.detach() + soft


def code_perplexity(probs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Perplexity of the batch-average phone distribution (phones in use); probs (B, T, P)."""
    avg = probs[mask].mean(0)
    return torch.exp(-(avg * torch.log(avg + 1e-7)).sum())


@torch.no_grad()
def transcribe(generator: Generator, segments: Sequence[torch.Tensor], device: torch.device,
               batch_size: int = 64) -> list[list[int]]:
    """Phone ids per utterance: argmax per segment, repeats merged (silence kept).

    segments: list of (T_i, in_dim) tensors.
    """
    generator.eval()
    out: list[list[int]] = []
    for i in range(0, len(segments), batch_size):
        x, mask = pad_batch([s.to(device) for s in segments[i:i + batch_size]])
        pred = generator(x, mask).argmax(-1).cpu()
        for p, m in zip(pred, mask.cpu()):
            ids = p[m].tolist()
            out.append([a for j, a in enumerate(ids) if j == 0 or ids[j - 1] != a])
    return out


@dataclass
class TrainedGenerator:
    """A trained generator (by the GAN or on labels): the weights kept (the best by `score`,
    else the last), the step they come from, their score, and per-evaluation history rows."""

    generator_state: dict[str, torch.Tensor]
    in_dim: int
    n_phones: int
    step: int
    score: float
    history: list[dict[str, float]] = field(default_factory=list)
    hidden: int | None = None  # hidden width it was trained with, when it differs from the config

    def generator(self, cfg: GeneratorConfig, device: torch.device) -> Generator:
        """Rebuild the network (shape from `cfg`, hidden width from training) with its weights."""
        if self.hidden is not None:
            cfg = cfg.model_copy(update={"generator_hidden": self.hidden})
        g = Generator(self.in_dim, self.n_phones, cfg).to(device)
        g.load_state_dict(self.generator_state)
        return g.eval()


def train_gan(segments: Sequence[torch.Tensor], text: Sequence[Sequence[int]], n_phones: int,
              cfg: GanConfig, device: torch.device, seed: int,
              score: Callable[[list[list[int]]], float] | None = None,
              progress: Callable[[int, dict[str, float]], None] | None = None,
              checkpoint: Callable[[dict], None] | None = None,
              resume: dict | None = None,
              monitor: Callable[[Generator], dict[str, float | None]] | None = None,
              start: dict[str, torch.Tensor] | None = None) -> TrainedGenerator:
    """Train generator and discriminator adversarially.

    segments: unpaired audio, list of (T_i, in_dim) float segment features.
    text: unpaired phone-id sequences (ids < n_phones), the real samples.
    score: unsupervised criterion of the generator's transcriptions of `segments` (lower is
        better); evaluated every `gan_eval_every` steps, the best generator is kept.
    progress(step, metrics) is called at each evaluation; checkpoint(state) receives a
    resumable state (pass it back as `resume` to continue after a crash). monitor(generator)
    may add figures to each evaluation's row (e.g. a test PER for plots); they select nothing.
    start: generator weights to begin from instead of a random init (diagnostics; `resume` wins).
    Raises UnpairedError on a non-finite loss.
    """
    if not segments or not text:
        raise InputError("gan", "needs both audio segments and text")
    # Own generators, no global seed: batches (CPU), dropout and Gumbel noise (on the device).
    gen = torch.Generator(device="cpu").manual_seed(seed)
    noise, init = seed_generators(seed, device)
    in_dim = int(segments[0].shape[1])
    G = Generator(in_dim, n_phones, cfg.generator).to(device)
    D = Discriminator(n_phones, cfg.discriminator).to(device)
    seed_module(G, noise, init)
    seed_module(D, noise, init)
    if start is not None:
        G.load_state_dict(start)
    gc, dc = cfg.generator, cfg.discriminator
    opt_g = torch.optim.Adam(G.parameters(), lr=gc.generator_lr, betas=(0.5, 0.98))
    opt_d = torch.optim.Adam(D.parameters(), lr=dc.discriminator_lr, betas=(0.5, 0.98),
                             weight_decay=dc.discriminator_weight_decay)
    text_t = [torch.tensor(t, dtype=torch.long) for t in text if len(t) > 0]
    if gc.generator_join_segments:  # joined outputs never repeat a phone; neither may the text
        text_t = [t[torch.cat([torch.tensor([True]), t[1:] != t[:-1]])] for t in text_t]
    bigrams = ngram_targets(text_t, n_phones).to(device)
    unigrams = unigram_targets(text_t, n_phones).to(device)
    seg_t = [s.float() for s in segments if s.shape[0] > 0]
    start, best, history = 0, (math.inf, None, 0), []
    if resume is not None:
        G.load_state_dict(resume["generator"]); D.load_state_dict(resume["discriminator"])
        opt_g.load_state_dict(resume["opt_g"]); opt_d.load_state_dict(resume["opt_d"])
        start, history = resume["step"], list(resume["history"])
        best = (resume["best_score"], resume["best_state"], resume["best_step"])
        gen.set_state(resume["rng"])
        if "noise_rng" in resume:
            noise.set_state(resume["noise_rng"])
    B = cfg.gan_batch_size

    def crop(seq: torch.Tensor) -> torch.Tensor:
        if seq.shape[0] <= cfg.gan_crop:
            return seq
        s = int(torch.randint(seq.shape[0] - cfg.gan_crop + 1, (1,), generator=gen))
        return seq[s:s + cfg.gan_crop]

    def fake_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = torch.randint(len(seg_t), (B,), generator=gen).tolist()
        x, mask = pad_batch([crop(seg_t[i]) for i in idx])
        x, mask = x.to(device), mask.to(device)
        logits = G(x, mask)
        if gc.generator_join_segments:
            joined, jmask = join_segments(logits, mask)
        else:
            joined, jmask = logits, mask
        if gc.generator_gumbel:
            probs = gumbel_softmax(joined, gc.generator_gumbel_tau, noise)
        else:
            probs = joined.softmax(-1)
        return probs * jmask[..., None], jmask, logits, mask

    def real_batch() -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(len(text_t), (B,), generator=gen).tolist()
        ids, mask = pad_batch([crop(text_t[i]) for i in idx])
        return F.one_hot(ids, n_phones).float().to(device) * mask.to(device)[..., None], mask.to(device)

    for step in range(start, cfg.gan_steps):
        G.train(); D.train()
        # discriminator step (skipped when the adversarial term is off)
        if cfg.gan_adversarial_weight > 0:
            real, rmask = real_batch()
            with torch.no_grad():
                fake, fmask, _, _ = fake_batch()
            d_real, d_fake = D(real, rmask), D(fake, fmask)
            loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                      + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
            gp = (gradient_penalty(D, real, rmask, fake, fmask, gen) if cfg.gan_gradient_penalty > 0
                  else torch.zeros((), device=device))
            opt_d.zero_grad(set_to_none=True)
            (loss_d + cfg.gan_gradient_penalty * gp).backward()
            opt_d.step()
        # generator step
        fake, fmask, logits, mask = fake_batch()
        if cfg.gan_adversarial_weight > 0:
            d_gen = D(fake, fmask)
            adv = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
        else:
            adv = loss_d = gp = torch.zeros((), device=device)
        valid_pairs = mask[:, 1:] & mask[:, :-1]
        smooth = ((logits[:, 1:] - logits[:, :-1]) ** 2).mean(-1)[valid_pairs].mean()
        ppl = code_perplexity(logits.softmax(-1), mask)
        code = (n_phones - ppl) / n_phones
        odm = odm_loss(fake, fmask, bigrams) if cfg.gan_odm_weight > 0 else torch.zeros((), device=device)
        uni = (unigram_loss(fake, fmask, unigrams) if cfg.gan_unigram_weight > 0
               else torch.zeros((), device=device))
        loss_g = (cfg.gan_adversarial_weight * adv + cfg.gan_odm_weight * odm + cfg.gan_unigram_weight * uni
                  + cfg.gan_smoothness_weight * smooth + cfg.gan_code_penalty * code)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if not (torch.isfinite(loss_g) and torch.isfinite(loss_d)):
            raise UnpairedError(f"GAN seed {seed}: non-finite loss at step {step}")
        last = step + 1 == cfg.gan_steps
        if (step + 1) % cfg.gan_eval_every == 0 or last:
            row = {"step": step + 1, "loss_d": loss_d.item(), "gp": gp.item(), "loss_g": adv.item(),
                   "smooth": smooth.item(), "code_ppl": ppl.item(), "odm": odm.item(),
                   "unigram": uni.item()}
            if score is not None:
                row["score"] = float(score(transcribe(G, seg_t[: cfg.gan_eval_utterances], device)))
                if row["score"] < best[0]:
                    best = (row["score"], copy.deepcopy(G.state_dict()), step + 1)
            if monitor is not None:
                row.update(monitor(G))
                G.train()
            history.append(row)
            if progress is not None:
                progress(step + 1, row)
            if checkpoint is not None:
                checkpoint({"generator": G.state_dict(), "discriminator": D.state_dict(),
                            "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                            "step": step + 1, "history": history, "best_score": best[0],
                            "best_state": best[1], "best_step": best[2], "rng": gen.get_state(),
                            "noise_rng": noise.get_state()})
    if best[1] is None:
        best = (math.nan, G.state_dict(), cfg.gan_steps)
    state = {k: v.detach().cpu().clone() for k, v in best[1].items()}
    return TrainedGenerator(state, in_dim, n_phones, best[2], best[0], history)
