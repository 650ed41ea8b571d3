"""The shared encoder-decoder Transformer of both languages.

One encoder and one decoder serve both directions. Each language has its own word table,
initialised from the aligned cross-lingual vectors (one shared space), projected to
`d_model` by one shared linear map; a language embedding tells the encoder what it reads
and the decoder what it writes. The output layer of a language is tied to its word table,
so the decoder can only emit words of the target language.

With `ModelConfig.copying` the decoder can also copy a source unit into its output (CopyNet, Gu et al.
2016): a copy score per source position joins the vocabulary scores in one softmax, and the copied
unit's probability goes to the other side's unit of the same spelling (names, numbers and punctuation
across two languages, nearly every word across two styles of one; <unk> to <unk>, which the text level
fills with the source word). Denoising, where a side reconstructs itself, copies only with
`ModelConfig.copy_in_denoising`. The model's scores are then log-probabilities,
which every consumer of logits (cross-entropy, argmax, log-softmax, Gumbel-max) reads unchanged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from components.backtranslate.config import EmbeddingMode, ModelConfig
from components.backtranslate.vocab import BOS_ID, PAD_ID, SPECIALS, UNK_ID, Vocabulary


class Attention(nn.Module):
    """Multi-head attention through `scaled_dot_product_attention`, with an optional key/value cache."""

    def __init__(self, d: int, heads: int, dropout: float) -> None:
        super().__init__()
        if d % heads:
            raise ValueError(f"d_model {d} is not a multiple of heads {heads}")
        self.heads, self.dropout = heads, dropout
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, d) -> (B, H, T, d/H)
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def kv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._split(self.k(x)), self._split(self.v(x))

    def forward(self, x: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor] | None = None,
                mask: torch.Tensor | None = None, causal: bool = False) -> torch.Tensor:
        """x: (B, T, d) queries; kv: precomputed (B, H, S, d/H) keys and values, else self-attention.

        mask: (B, 1, 1, S) bool, True where a key may be attended to.
        """
        q = self._split(self.q(x))
        k, v = self.kv(x) if kv is None else kv
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal,
                                           dropout_p=self.dropout if self.training else 0.0)
        b, h, t, dh = y.shape
        return self.o(y.transpose(1, 2).reshape(b, t, h * dh))


class FeedForward(nn.Module):
    def __init__(self, d: int, ff: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class EncoderLayer(nn.Module):
    def __init__(self, c: ModelConfig) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.att = Attention(c.d_model, c.heads, c.dropout)
        self.ff = FeedForward(c.d_model, c.ff, c.dropout)
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.att(self.ln1(x), mask=mask))
        return x + self.drop(self.ff(self.ln2(x)))


@dataclass
class DecoderCache:
    """Keys and values of past decoder positions (per layer) and of the encoder output."""

    self_kv: list[tuple[torch.Tensor, torch.Tensor] | None] = field(default_factory=list)
    cross_kv: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)
    output: torch.Tensor | None = None  # (V, d) projected word table of the target language, made at the first step
    copy: tuple[torch.Tensor, torch.Tensor] | None = None  # copy keys (B, S, d) and target ids (B, S), -1: none

    def reorder(self, index: torch.Tensor) -> None:
        """Keep rows `index` (beam search)."""
        self.self_kv = [None if kv is None else (kv[0][index], kv[1][index]) for kv in self.self_kv]
        self.cross_kv = [(k[index], v[index]) for k, v in self.cross_kv]
        if self.copy is not None:
            self.copy = (self.copy[0][index], self.copy[1][index])


class DecoderLayer(nn.Module):
    def __init__(self, c: ModelConfig) -> None:
        super().__init__()
        self.ln1, self.ln2, self.ln3 = (nn.LayerNorm(c.d_model) for _ in range(3))
        self.self_att = Attention(c.d_model, c.heads, c.dropout)
        self.cross_att = Attention(c.d_model, c.heads, c.dropout)
        self.ff = FeedForward(c.d_model, c.ff, c.dropout)
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, memory_kv: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor,
                past: tuple[torch.Tensor, torch.Tensor] | None = None,
                incremental: bool = False) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
        """Training: whole target, causal. Incremental: x is one new position; past holds earlier ones."""
        h = self.ln1(x)
        if incremental:
            k, v = self.self_att.kv(h)
            if past is not None:
                k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
            x = x + self.drop(self.self_att(h, kv=(k, v)))
            new_past = (k, v)
        else:
            x = x + self.drop(self.self_att(h, causal=True))
            new_past = None
        x = x + self.drop(self.cross_att(self.ln2(x), kv=memory_kv, mask=mask))
        return x + self.drop(self.ff(self.ln3(x))), new_past


def joint_log_probs(logits: torch.Tensor, copy_scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """One softmax over generating and copying (CopyNet). logits: (B, T, V) vocabulary scores;
    copy_scores: (B, T, S) per source position, -inf where nothing can be copied; targets: (B, S)
    target id of each source position (any valid id where its score is -inf) -> (B, T, V) log-probs."""
    logits, copy_scores = logits.float(), copy_scores.float()
    top = copy_scores.amax(-1, keepdim=True)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))  # a row with nothing to copy
    mass = torch.zeros_like(logits).scatter_add_(
        2, targets.unsqueeze(1).expand(-1, logits.shape[1], -1), torch.exp(copy_scores - top))
    # floor, not log(0): its gradient would be inf x 0 = nan
    joint = torch.logaddexp(logits, torch.log(mass.clamp_min(1e-30)) + top)
    return joint - torch.logsumexp(joint, -1, keepdim=True)


def copy_targets(vocabs: tuple[Vocabulary, Vocabulary]) -> tuple[np.ndarray, np.ndarray]:
    """Per side l, (V_l,) ids of the other side's unit of the same spelling, -1 where it has none;
    <unk> copies to <unk>, the other specials to nothing."""
    out = []
    for lang in (0, 1):
        index = vocabs[1 - lang].index
        ids = np.array([index.get(w, -1) for w in vocabs[lang].words], dtype=np.int64)
        ids[:len(SPECIALS)] = -1
        ids[UNK_ID] = UNK_ID
        out.append(ids)
    return out[0], out[1]


class Translator(nn.Module):
    """Shared Transformer over two languages (index 0 = source side, 1 = target side of the pair).

    vectors: per language, (V_l, E) initial word vectors; missing: (V_l,) bool, rows without
    an aligned vector. Shapes alone are needed when a state dict is loaded afterwards.
    copy: per language, (V_l,) ids of the other language's unit of the same spelling, -1 for none
    (`copy_targets`); needed with `config.copying`, restored from the state dict like the weights.
    """

    def __init__(self, config: ModelConfig, vectors: list[np.ndarray], missing: list[np.ndarray],
                 copy: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        super().__init__()
        self.config = config
        d, e = config.d_model, vectors[0].shape[1]
        frozen = config.embeddings == EmbeddingMode.FROZEN
        self.tables = nn.ParameterList()
        self.learned = nn.ParameterList()  # frozen mode: vectors for words the alignment lacks
        for lang, (vec, miss) in enumerate(zip(vectors, missing)):
            t = torch.from_numpy(np.asarray(vec, dtype=np.float32))
            self.tables.append(nn.Parameter(t.clone(), requires_grad=not frozen))
            self.register_buffer(f"missing{lang}", torch.from_numpy(np.asarray(miss, dtype=bool)))
            if frozen:
                self.learned.append(nn.Parameter(t.clone()))
        self.proj = nn.Linear(e, d, bias=False)  # aligned space -> model space, shared by both languages
        self.lang = nn.Embedding(2, d)
        self.pos = nn.Embedding(config.max_positions, d)
        self.emb_ln = nn.LayerNorm(d)
        self.encoder = nn.ModuleList(EncoderLayer(config) for _ in range(config.layers))
        self.decoder = nn.ModuleList(DecoderLayer(config) for _ in range(config.layers))
        self.enc_ln, self.dec_ln = nn.LayerNorm(d), nn.LayerNorm(d)
        self.out_bias = nn.ParameterList(nn.Parameter(torch.zeros(len(v))) for v in vectors)
        self.drop = nn.Dropout(config.dropout)
        nn.init.normal_(self.pos.weight, std=0.01)
        nn.init.normal_(self.lang.weight, std=0.01)
        # Aligned vectors have unit norm: projected entries of about 0.5/sqrt(d) dominate the position
        # and language signals (std 0.01) at first, and the tied output logits start near unit scale.
        nn.init.normal_(self.proj.weight, std=0.5 / math.sqrt(d))
        if config.copying:
            self.copy_q, self.copy_k = nn.Linear(d, d), nn.Linear(d, d)
            for lang, vec in enumerate(vectors):
                ids = np.full(len(vec), -1, np.int64) if copy is None else np.asarray(copy[lang], np.int64)
                if ids.shape != (len(vec),):
                    raise ValueError(f"copy map of language {lang} has shape {ids.shape}, not ({len(vec)},)")
                self.register_buffer(f"copy{lang}", torch.from_numpy(ids))
                if config.copy_in_denoising:  # every unit but the specials (<unk> aside) is its own copy
                    own = torch.arange(len(vec))
                    own = torch.where((own < len(SPECIALS)) & (own != UNK_ID), -1, own)
                    self.register_buffer(f"own{lang}", own, persistent=False)  # derived: not in bundles

    def vocab_size(self, lang: int) -> int:
        return self.tables[lang].shape[0]

    def table(self, lang: int) -> torch.Tensor:
        """(V_l, E) word vectors in use (frozen mode: aligned rows fixed, missing rows learned)."""
        t = self.tables[lang]
        if self.config.embeddings == EmbeddingMode.FROZEN:
            miss = getattr(self, f"missing{lang}").unsqueeze(1)
            t = torch.where(miss, self.learned[lang], t)
        return t

    def embed(self, tokens: torch.Tensor, lang: int, offset: int = 0) -> torch.Tensor:
        """tokens: (B, T) ids of language `lang`, or (B, T, V_lang) distributions over its words
        (Gumbel-softmax samples: their words' vectors, weighted) -> (B, T, d), positions from `offset`."""
        if tokens.shape[1] + offset > self.config.max_positions:
            raise ValueError(f"sequence of {tokens.shape[1] + offset} tokens exceeds max_positions "
                             f"{self.config.max_positions}")
        pos = torch.arange(offset, offset + tokens.shape[1], device=tokens.device)
        words = F.embedding(tokens, self.table(lang)) if tokens.dtype == torch.long else tokens @ self.table(lang)
        x = self.proj(words) + self.pos(pos) + self.lang.weight[lang]
        return self.drop(self.emb_ln(x))

    def encode(self, src: torch.Tensor, lang: int) -> tuple[torch.Tensor, torch.Tensor]:
        """src: (B, S) ids ending in </s>, right-padded -> memory (B, S, d), key mask (B, 1, 1, S)."""
        mask = (src != PAD_ID)[:, None, None, :]
        x = self.embed(src, lang)
        for layer in self.encoder:
            x = layer(x, mask)
        return self.enc_ln(x), mask

    def memory_kv(self, memory: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [layer.cross_att.kv(memory) for layer in self.decoder]

    def output_table(self, lang: int) -> torch.Tensor:
        """(V_lang, d): the language's word table projected to model space, the tied output layer."""
        return self.proj(self.table(lang))

    def logits(self, h: torch.Tensor, lang: int, output: torch.Tensor | None = None) -> torch.Tensor:
        """(..., d) decoder states -> (..., V_lang) scores, tied to the language's projected word table
        (`output`, when the caller already holds `output_table(lang)`)."""
        return h @ (self.output_table(lang) if output is None else output).T + self.out_bias[lang]

    def copy_source(self, memory: torch.Tensor, src: torch.Tensor, src_lang: int, tgt_lang: int
                    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Copy keys (B, S, d) of the encoder output and the target id (B, S) of each source unit, -1 for
        none. A side reconstructing itself (denoising) gets None, so it teaches the decoder to write its
        language, unless `config.copy_in_denoising`: then every unit but the specials is its own copy."""
        if src_lang != tgt_lang:
            ids = getattr(self, f"copy{src_lang}")
        elif self.config.copy_in_denoising:
            ids = getattr(self, f"own{src_lang}")
        else:
            return None
        return self.copy_k(memory), ids[src]

    def with_copy(self, logits: torch.Tensor, h: torch.Tensor, copy: tuple[torch.Tensor, torch.Tensor]
                  ) -> torch.Tensor:
        """(B, T, V) vocabulary scores and decoder states (B, T, d) -> (B, T, V) log-probs of generating or copying."""
        keys, targets = copy
        scores = self.copy_q(h) @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])
        scores = scores.masked_fill((targets < 0).unsqueeze(1), float("-inf"))
        return joint_log_probs(logits, scores, targets.clamp_min(0))

    def forward(self, src: torch.Tensor, src_lang: int, tgt_in: torch.Tensor, tgt_lang: int) -> torch.Tensor:
        """Teacher forcing. src: (B, S); tgt_in: (B, T) starting with <s> -> logits (B, T, V_tgt)
        (log-probs with copying)."""
        memory, mask = self.encode(src, src_lang)
        x = self.embed(tgt_in, tgt_lang)
        for layer, kv in zip(self.decoder, self.memory_kv(memory)):
            x, _ = layer(x, kv, mask)
        h = self.dec_ln(x)
        logits = self.logits(h, tgt_lang)
        copy = self.copy_source(memory, src, src_lang, tgt_lang) if self.config.copying else None
        return logits if copy is None else self.with_copy(logits, h, copy)

    def start(self, memory: torch.Tensor, src: torch.Tensor | None = None, src_lang: int | None = None,
              tgt_lang: int | None = None) -> DecoderCache:
        """A cache for incremental decoding from encoder output (B, S, d); with copying, the source
        ids (B, S) the memory was encoded from and both languages."""
        cache = DecoderCache([None] * len(self.decoder), self.memory_kv(memory))
        if self.config.copying:
            if src is None or src_lang is None or tgt_lang is None:
                raise ValueError("a model that copies needs the source ids and both languages to start decoding")
            cache.copy = self.copy_source(memory, src, src_lang, tgt_lang)
        return cache

    def step(self, tokens: torch.Tensor, position: int, tgt_lang: int, mask: torch.Tensor,
             cache: DecoderCache) -> torch.Tensor:
        """One decoding step. tokens: (B,) last emitted ids, or (B, V_tgt) distributions over them
        (Gumbel-softmax samples, which carry gradients) -> (B, V_tgt) logits; updates `cache`."""
        x = self.embed(tokens[:, None], tgt_lang, offset=position)
        for i, layer in enumerate(self.decoder):
            x, cache.self_kv[i] = layer(x, cache.cross_kv[i], mask, cache.self_kv[i], incremental=True)
        if cache.output is None:  # once per search: projecting the table costs V x E x d, more than a step's layers
            cache.output = self.output_table(tgt_lang)
        h = self.dec_ln(x)
        logits = self.logits(h, tgt_lang, cache.output)
        if cache.copy is not None:
            logits = self.with_copy(logits, h, cache.copy)
        return logits[:, 0]


def batch_tensor(seqs: list[list[int]], device: torch.device, bos: bool = False, eos_id: int | None = None
                 ) -> torch.Tensor:
    """Right-pad id lists into (B, T); optional <s> in front and `eos_id` at the end of each."""
    rows = [([BOS_ID] if bos else []) + list(s) + ([eos_id] if eos_id is not None else []) for s in seqs]
    width = max(len(r) for r in rows)
    out = torch.full((len(rows), width), PAD_ID, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r, dtype=torch.long)
    return out.to(device)
