"""Greedy and beam search over the incremental decoder."""
from __future__ import annotations

import torch

from components.backtranslate.model import Translator, batch_tensor
from components.backtranslate.vocab import BOS_ID, EOS_ID


def output_limits(src: list[list[int]], a: float, b: int, cap: int) -> list[int]:
    """Longest output of each source: a * its length + b, at most `cap`."""
    return [min(int(a * len(s)) + b, cap) for s in src]


@torch.inference_mode()
def greedy(model: Translator, src: list[list[int]], src_lang: int, tgt_lang: int, device: torch.device,
           max_len_a: float = 1.5, max_len_b: int = 10) -> list[list[int]]:
    """Most likely token at each step. src: id lists without </s> -> output id lists without </s>."""
    if not src:
        return []
    was_training = model.training
    model.eval()
    try:
        limits = output_limits(src, max_len_a, max_len_b, model.config.max_positions - 1)
        ids = batch_tensor(src, device, eos_id=EOS_ID)
        memory, mask = model.encode(ids, src_lang)
        cache = model.start(memory, ids, src_lang, tgt_lang)
        tokens = torch.full((len(src),), BOS_ID, dtype=torch.long, device=device)
        done = torch.zeros(len(src), dtype=torch.bool, device=device)
        limit = torch.tensor(limits, device=device)
        out = []
        for t in range(max(limits)):
            tokens = model.step(tokens, t, tgt_lang, mask, cache).argmax(-1)
            tokens = torch.where(done | (t >= limit), EOS_ID, tokens)
            out.append(tokens)
            done |= tokens == EOS_ID
            if bool(done.all()):
                break
        rows = torch.stack(out, 1).tolist() if out else [[] for _ in src]
        return [r[:r.index(EOS_ID)] if EOS_ID in r else r for r in rows]
    finally:
        model.train(was_training)


@torch.inference_mode()
def beam_search(model: Translator, src: list[list[int]], src_lang: int, tgt_lang: int, device: torch.device,
                beam: int = 4, length_penalty: float = 1.0, max_len_a: float = 1.5,
                max_len_b: int = 10) -> list[list[int]]:
    """Beam search; a hypothesis ends at </s> and is scored by log-prob / length ** length_penalty.

    An item stops once `beam` hypotheses have ended (at ranks within the beam, as fairseq does);
    at its length limit the best open hypothesis ends. beam=1 is exactly greedy search.
    """
    if not src:
        return []
    was_training = model.training
    model.eval()
    try:
        n, k = len(src), beam
        limits = output_limits(src, max_len_a, max_len_b, model.config.max_positions - 1)
        ids = batch_tensor(src, device, eos_id=EOS_ID)
        memory, mask = model.encode(ids, src_lang)
        memory, mask, ids = (x.repeat_interleave(k, 0) for x in (memory, mask, ids))
        cache = model.start(memory, ids, src_lang, tgt_lang)
        tokens = torch.full((n * k,), BOS_ID, dtype=torch.long, device=device)
        history = torch.zeros((n * k, 0), dtype=torch.long, device=device)
        scores = torch.full((n, k), float("-inf"), device=device)
        scores[:, 0] = 0.0
        finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(n)]
        open_items = set(range(n))
        for t in range(max(limits) + 1):
            for b in [b for b in open_items if t >= limits[b]]:  # length limit: best open hypothesis ends
                best = int(scores[b].argmax())
                row = history[b * k + best].tolist()
                finished[b].append((scores[b, best].item() / max(1, len(row)) ** length_penalty, row))
                open_items.discard(b)
            if not open_items:
                break
            logp = torch.log_softmax(model.step(tokens, t, tgt_lang, mask, cache).float(), -1)
            v = logp.shape[-1]
            cand = (scores.unsqueeze(-1) + logp.view(n, k, v)).view(n, -1)
            top_s, top_i = cand.topk(2 * k, dim=-1)  # at most k of them end in </s>
            origin, word = top_i // v, top_i % v
            is_eos = word == EOS_ID
            for b, r in (is_eos[:, :k].nonzero().tolist() if bool(is_eos[:, :k].any()) else []):
                if b in open_items:
                    row = history[b * k + int(origin[b, r])].tolist()
                    finished[b].append((top_s[b, r].item() / max(1, len(row)) ** length_penalty, row))
            for b in [b for b in open_items if len(finished[b]) >= k]:
                open_items.discard(b)
            if not open_items:
                break
            # continue with the best k candidates that do not end
            keep_s = torch.where(is_eos, float("-inf"), top_s)
            keep_s, rank = keep_s.topk(k, dim=-1)
            origin = origin.gather(1, rank)
            word = word.gather(1, rank)
            index = (origin + torch.arange(n, device=device).unsqueeze(1) * k).view(-1)
            cache.reorder(index)
            history = torch.cat([history[index], word.view(-1, 1)], 1)
            scores = keep_s
            tokens = word.view(-1)
        return [max(f, key=lambda x: x[0])[1] if f else [] for f in finished]
    finally:
        model.train(was_training)


def translate_ids(model: Translator, src: list[list[int]], src_lang: int, tgt_lang: int, device: torch.device,
                  beam: int = 1, length_penalty: float = 1.0, max_len_a: float = 1.5, max_len_b: int = 10,
                  batch_sentences: int = 64) -> list[list[int]]:
    """Translate many sentences in length-sorted batches; output in input order."""
    order = sorted(range(len(src)), key=lambda i: len(src[i]))
    out: list[list[int]] = [[] for _ in src]
    for start in range(0, len(order), batch_sentences):
        idx = order[start:start + batch_sentences]
        chunk = [src[i] for i in idx]
        if beam == 1:
            hyps = greedy(model, chunk, src_lang, tgt_lang, device, max_len_a, max_len_b)
        else:
            hyps = beam_search(model, chunk, src_lang, tgt_lang, device, beam, length_penalty, max_len_a,
                               max_len_b)
        for i, h in zip(idx, hyps):
            out[i] = h
    return out
