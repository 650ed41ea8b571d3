"""Floating-point work of training and generation, counted from batch shapes, and the machine's matmul peak.

Only matrix products are counted (linear layers, attention scores and values, the tied output
layer, copy scores), as `torch.utils.flop_counter` does: layer norms, softmax, the loss and Adam are
element-wise and small beside them. Lengths are the padded ones the code computes on.
Counting is integer arithmetic on shapes known on the host: no device synchronisation.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import torch

from components.backtranslate.config import ModelConfig
from components.backtranslate.decode import output_limits


def _linear(rows: int, fan_in: int, fan_out: int) -> int:
    return 2 * rows * fan_in * fan_out


def _embed(c: ModelConfig, rows: int, e: int) -> int:
    """Word vectors (E) projected to d_model for `rows` tokens (the lookup itself is free)."""
    return _linear(rows, e, c.d_model)


def _encoder(c: ModelConfig, b: int, s: int) -> int:
    """L encoder layers over (b, s): q, k, v, o; scores and values (4 b s^2 d); feed-forward."""
    d, n = c.d_model, b * s
    layer = 4 * _linear(n, d, d) + 4 * b * s * s * d + _linear(n, d, c.ff) + _linear(n, c.ff, d)
    return c.layers * layer


def _logits(c: ModelConfig, rows: int, vocab: int, e: int) -> int:
    """Tied output layer: the word table projected to d_model (on every call), then rows x d @ d x V."""
    return _linear(vocab, e, c.d_model) + _linear(rows, c.d_model, vocab)


def forward_flops(c: ModelConfig, batch: int, src_len: int, tgt_len: int, vocab: int, e: int) -> int:
    """Teacher-forced forward of `Translator`: src (batch, src_len), tgt_in (batch, tgt_len), padded
    lengths; vocab = the target language's table size, e = the word-vector width.

    Causal self-attention is counted in full (the kernel computes and masks the whole square).
    """
    d, b, s, t = c.d_model, batch, src_len, tgt_len
    dec = (4 * _linear(b * t, d, d) + 4 * b * t * t * d                           # self-attention
           + 2 * _linear(b * t, d, d) + 2 * _linear(b * s, d, d) + 4 * b * t * s * d  # cross-attention
           + _linear(b * t, d, c.ff) + _linear(b * t, c.ff, d))
    return (_embed(c, b * s, e) + _encoder(c, b, s) + _embed(c, b * t, e) + c.layers * dec
            + _logits(c, b * t, vocab, e) + _copy(c, b, s, t))


def _copy(c: ModelConfig, b: int, s: int, t: int) -> int:
    """Copy scores (`ModelConfig.copying`): keys of (b, s) source positions, queries of (b, t), their products."""
    d = c.d_model
    return _linear(b * s, d, d) + _linear(b * t, d, d) + 2 * b * t * s * d if c.copying else 0


def train_flops(c: ModelConfig, batch: int, src_len: int, tgt_len: int, vocab: int, e: int) -> int:
    """Forward and backward of one teacher-forced loss: 3 x forward (the backward of each product
    takes two products of its size, one for the input gradient and one for the weight's)."""
    return 3 * forward_flops(c, batch, src_len, tgt_len, vocab, e)


def greedy_steps(limits: Sequence[int], outputs: Sequence[Sequence[int]]) -> int:
    """Decoder steps `decode.greedy` ran: it stops once every row has ended (</s>, not in `outputs`),
    or after max(limits) steps."""
    if not outputs:
        return 0
    return min(max(limits), max(len(o) for o in outputs) + 1)


def greedy_flops(c: ModelConfig, batch: int, src_len: int, steps: int, vocab: int, e: int) -> int:
    """Forward work of `decode.greedy` with its key/value cache: encode (batch, src_len), the
    encoder keys and values of each decoder layer once, then per step t one new position attending
    to t + 1 cached positions and to the source, and the tied output layer (its table projected once)."""
    d, b, s = c.d_model, batch, src_len
    total = (_embed(c, b * s, e) + _encoder(c, b, s) + c.layers * 2 * _linear(b * s, d, d)
             + _copy(c, b, s, steps))  # copy keys once, a query per step
    if steps:
        total += _linear(vocab, e, d)  # the output table, projected once per search (`DecoderCache.output`)
    per_step = (_embed(c, b, e) + c.layers * (4 * _linear(b, d, d) + 2 * _linear(b, d, d) + 4 * b * s * d
                                              + _linear(b, d, c.ff) + _linear(b, c.ff, d))
                + _linear(b, d, vocab))
    attended = steps * (steps + 1) // 2  # self-attention over t + 1 positions at step t
    return total + steps * per_step + c.layers * 4 * b * attended * d


def matmul_peak(shapes: Sequence[tuple[int, int, int]], device: torch.device, repeats: int = 5,
                min_time_s: float = 0.01, budget_s: float = 0.5, dtype: torch.dtype = torch.float32) -> float:
    """FLOP/s of the fastest of the products (m x k) @ (k x n) for `shapes`, in `dtype` (training's:
    bfloat16 under CUDA autocast) on `device` with the current torch thread count: the machine's own
    peak for the model's shapes.

    Each timing runs enough products back to back to last `min_time_s` (small shapes: call overhead
    and timer resolution amortised); the best of `repeats` timings counts, fewer once `budget_s` is
    spent on a shape (large shapes on slow machines)."""
    best, gen = 0.0, torch.Generator(device).manual_seed(0)  # own generator: training's RNG stream is untouched

    def timed(a: torch.Tensor, w: torch.Tensor, calls: int) -> float:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        for _ in range(calls):
            torch.mm(a, w)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    for m, k, n in shapes:
        a = torch.randn(m, k, device=device, generator=gen).to(dtype)
        w = torch.randn(k, n, device=device, generator=gen).to(dtype)
        calls, seconds = 1, timed(a, w, 1)  # the first call also allocates and picks the kernel
        while seconds < min_time_s and calls < 1 << 16:
            calls *= 2
            seconds = timed(a, w, calls)
        times, spent = [seconds], seconds
        while len(times) < repeats and spent < budget_s:
            times.append(timed(a, w, calls))
            spent += times[-1]
        best = max(best, 2 * m * k * n * calls / max(1e-12, min(times)))
    return best


def greedy_call_flops(c: ModelConfig, src: list[list[int]], outputs: Sequence[Sequence[int]], vocab: int,
                      e: int, max_len_a: float, max_len_b: int) -> int:
    """`greedy_flops` of one `decode.greedy(src, ..., max_len_a, max_len_b)` call that returned `outputs`
    (source padded to its longest + </s>)."""
    if not src:
        return 0
    limits = output_limits(src, max_len_a, max_len_b, c.max_positions - 1)
    return greedy_flops(c, len(src), max(len(s) for s in src) + 1, greedy_steps(limits, outputs), vocab, e)


def model_shapes(c: ModelConfig, tokens_per_batch: int, vocab: int) -> list[tuple[int, int, int]]:
    """(m, k, n) of the model's largest products at full batch: feed-forward in, and the output layer."""
    return [(tokens_per_batch, c.d_model, c.ff), (tokens_per_batch, c.d_model, vocab)]
