"""MUSE adversarial alignment (Conneau, Lample et al. 2018, "Word translation without parallel data").

A linear map W (initialised to the identity, kept near-orthogonal) is trained to make mapped
source embeddings indistinguishable from target embeddings for a discriminator MLP. After
each epoch the unsupervised criterion is measured and the best map is kept.
"""
from __future__ import annotations

import math
import warnings

import torch
from torch import nn

from components.align.config import AdversarialConfig, CriterionConfig, RetrievalConfig
from components.align.criterion import selection_criterion
from components.align.state import HistoryPoint, LinearMaps, Progress, ProgressCallback, Stage


class SeededDropout(nn.Module):
    """Dropout whose masks come from `generator` rather than torch's default one, which parallel
    runs in other threads also draw from."""

    def __init__(self, p: float, generator: torch.Generator) -> None:
        super().__init__()
        self.p, self.generator = p, generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape, generator=self.generator, device=x.device) >= self.p
        return x * keep / (1 - self.p)


class Discriminator(nn.Module):
    """MLP scoring whether a (batch, d) embedding came from the mapped source (1) or the target (0).

    Input dropout, `layers` hidden layers with LeakyReLU, sigmoid output of shape (batch,).
    Initial weights (PyTorch's default scheme) and dropout masks are drawn from `generator`.
    """

    def __init__(self, dim: int, config: AdversarialConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        init = torch.Generator().manual_seed(generator.initial_seed())  # weights start on the CPU
        modules: list[nn.Module] = [SeededDropout(config.dis_input_dropout, generator)]
        width = dim
        for _ in range(config.dis_layers):
            modules += [nn.Linear(width, config.dis_hid_dim), nn.LeakyReLU(config.dis_leaky_slope)]
            if config.dis_dropout > 0:
                modules.append(SeededDropout(config.dis_dropout, generator))
            width = config.dis_hid_dim
        modules += [nn.Linear(width, 1), nn.Sigmoid()]
        self.layers = nn.Sequential(*modules)
        for layer in self.layers:
            if isinstance(layer, nn.Linear):  # nn.Linear.reset_parameters, from `generator`
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=init)
                bound = 1 / math.sqrt(layer.in_features)
                nn.init.uniform_(layer.bias, -bound, bound, generator=init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).view(-1)


@torch.no_grad()
def orthogonalize(w: torch.Tensor, beta: float) -> torch.Tensor:
    """One step towards orthogonality: W <- (1 + beta) W - beta W W^T W, in place; W: (d, d).

    For small beta this update pulls the singular values of W towards 1 (MUSE).
    """
    if beta > 0:
        w.copy_((1 + beta) * w - beta * w @ w.T @ w)
    return w


def clamp_most_frequent(most_frequent: int, vocab_size: int, side: str) -> int:
    """Number of words drawn for discrimination: `most_frequent` (0 = all) clamped to the vocabulary."""
    if most_frequent == 0:
        return vocab_size
    if most_frequent > vocab_size:
        warnings.warn(
            f"dis_most_frequent={most_frequent} exceeds the {side} vocabulary ({vocab_size} words); "
            f"using {vocab_size}",
            stacklevel=2,
        )
        return vocab_size
    return most_frequent


def _discrimination_batch(
    x: torch.Tensor, z: torch.Tensor, w: torch.Tensor, n_src: int, n_tgt: int, config: AdversarialConfig,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mapped source and target rows (2 * batch, d), with smoothed labels (2 * batch,): source first."""
    bs = config.batch_size
    src_ids = torch.randint(n_src, (bs,), device=x.device, generator=generator)
    tgt_ids = torch.randint(n_tgt, (bs,), device=x.device, generator=generator)
    inputs = torch.cat([x[src_ids] @ w, z[tgt_ids]])
    labels = torch.full((2 * bs,), config.dis_smooth, device=x.device)
    labels[:bs] = 1 - config.dis_smooth
    return inputs, labels


def discriminator_step(
    discriminator: Discriminator,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    z: torch.Tensor,
    w: torch.Tensor,
    n_src: int,
    n_tgt: int,
    config: AdversarialConfig,
    generator: torch.Generator,
) -> float:
    """One discriminator update on a fresh batch; the map is held fixed. Returns the BCE loss."""
    discriminator.train()
    with torch.no_grad():
        inputs, labels = _discrimination_batch(x, z, w, n_src, n_tgt, config, generator)
    loss = nn.functional.binary_cross_entropy(discriminator(inputs), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if config.dis_clip_weights > 0:
        with torch.no_grad():
            for p in discriminator.parameters():
                p.clamp_(-config.dis_clip_weights, config.dis_clip_weights)
    return float(loss.detach())


def mapping_step(
    discriminator: Discriminator,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    z: torch.Tensor,
    w: torch.Tensor,
    n_src: int,
    n_tgt: int,
    config: AdversarialConfig,
    generator: torch.Generator,
) -> float:
    """One map update that fools the discriminator (flipped labels), then orthogonalisation.

    w: (d, d) the map parameter, updated in place. Returns the adversarial loss.
    """
    discriminator.eval()
    inputs, labels = _discrimination_batch(x, z, w, n_src, n_tgt, config, generator)
    loss = config.dis_lambda * nn.functional.binary_cross_entropy(discriminator(inputs), 1 - labels)
    if not torch.isfinite(loss):
        raise FloatingPointError(f"adversarial map loss is {float(loss)}")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    orthogonalize(w.data, config.map_beta)
    return float(loss.detach())


def adversarial_training(
    x: torch.Tensor,
    z: torch.Tensor,
    config: AdversarialConfig,
    criterion: CriterionConfig,
    retrieval: RetrievalConfig,
    seed: int,
    progress_callback: ProgressCallback | None = None,
    init: torch.Tensor | None = None,
    search_words: int | None = None,
) -> tuple[LinearMaps, list[HistoryPoint]]:
    """Train a map x (n_src, d) -> z (n_tgt, d) adversarially; return the epoch with the best criterion.

    `init` (d, d) starts the map elsewhere than `config.map_id_init` says (e.g. at a supervised
    solution, to check that the objective keeps it).

    The best map is kept in memory (MUSE's checkpoint-and-reload before refinement).
    The criterion searches the `search_words` most frequent words of each side (all when None):
    refinement's cap, so that the values compare and a 200k-word pair is not searched whole each epoch.
    History: one point per epoch, with the criterion and the mean discriminator loss.
    """
    dim = x.shape[1]
    n_src = clamp_most_frequent(config.dis_most_frequent, x.shape[0], "source")
    n_tgt = clamp_most_frequent(config.dis_most_frequent, z.shape[0], "target")
    # Every draw (initial weights, dropout, batches) comes from this run's own generator: runs of a
    # sweep train in parallel threads, and torch's default generator is shared between them.
    generator = torch.Generator(device=x.device).manual_seed(seed)
    if init is not None:
        w0 = init.detach().clone().to(device=x.device, dtype=x.dtype)
    elif config.map_id_init:
        w0 = torch.eye(dim, device=x.device, dtype=x.dtype)
    else:
        w0 = nn.init.orthogonal_(torch.empty(dim, dim, dtype=x.dtype), generator=torch.Generator().manual_seed(seed))
    w = nn.Parameter(w0.to(x.device))
    discriminator = Discriminator(dim, config, generator).to(x.device)
    map_opt = torch.optim.SGD([w], lr=config.map_lr)
    dis_opt = torch.optim.SGD(discriminator.parameters(), lr=config.dis_lr)
    eye = torch.eye(dim, device=z.device, dtype=z.dtype)
    history: list[HistoryPoint] = []
    best_w, best_value = w.detach().clone(), float("-inf")
    shrink_armed = False
    steps = max(1, config.epoch_size // config.batch_size)
    for epoch in range(config.n_epochs):
        dis_losses = []
        for _ in range(steps):
            for _ in range(config.dis_steps):
                dis_losses.append(discriminator_step(discriminator, dis_opt, x, z, w, n_src, n_tgt, config, generator))
            if config.dis_lambda > 0:
                mapping_step(discriminator, map_opt, x, z, w, n_src, n_tgt, config, generator)
        with torch.no_grad():
            value = selection_criterion(*LinearMaps(w, eye).apply(x[:search_words], z[:search_words]),
                                        criterion, retrieval)
        point = HistoryPoint(Stage.ADVERSARIAL, epoch, value, sum(dis_losses) / len(dis_losses))
        history.append(point)
        if progress_callback is not None:
            progress_callback(Progress(point, LinearMaps(w.detach().clone(), eye)))
        if value > best_value:
            best_w, best_value = w.detach().clone(), value
        # MUSE's schedule: decay every epoch; shrink when the criterion drops a second time.
        for group in map_opt.param_groups:
            group["lr"] = max(config.min_lr, group["lr"] * config.lr_decay)
            if value < best_value:
                if shrink_armed:
                    group["lr"] *= config.lr_shrink
                shrink_armed = True
    return LinearMaps(best_w, eye), history
