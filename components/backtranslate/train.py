"""Denoising auto-encoding and on-the-fly back-translation, with checkpoints and resume.

Each step trains both languages l in {0, 1} on two losses:
  denoising:        noise(x_l) -> x_l
  back-translation: y = translate(x_l, l -> l') with the current model, no gradient (or the
                    word-by-word translation during the first round: searched with a target LM,
                    lmwordbyword.py, or word for word by the CSLS map); then learn y -> x_l.
Model selection is `ROUND_TRIP_BLEU` (criterion.py): round-trip BLEU on held-out monolingual
sentences (A->B->A, B->A->B); the best checkpoint's weights are kept. With `average_decay`, a
checkpoint's candidates are its weights and their moving average (Polyak averaging).
With `config.adversary` on, a third loss from discriminators of each language (adversary.py).
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from components.atomic import atomic_path
from components.embeddings import Embeddings, unit_rows
from components.errors import InputError, UnpairedError
from components.backtranslate.adversary import Adversary
from components.backtranslate.bundle import TranslationModel, translate_text
from components.backtranslate.config import AdversaryMode, TranslateConfig, TrainConfig
from components.backtranslate.criterion import ROUND_TRIP_BLEU, round_trip_criterion, style_criterion
from components.backtranslate.decode import greedy
from components.backtranslate.metrics import bleu
from components.backtranslate.lmwordbyword import LMWordByWord
from components.backtranslate.model import Translator, batch_tensor, copy_targets
from components.backtranslate.noise import add_noise
from components.backtranslate.throughput import greedy_call_flops, matmul_peak, model_shapes, train_flops
from components.backtranslate.vocab import EOS_ID, PAD_ID, SPECIALS, UNK_ID, SubwordVocabulary, Vocabulary
from components.backtranslate.wordbyword import id_map, translate_words


class TrainingDiverged(UnpairedError):
    """The loss became NaN or infinite."""


def kept_sentences(sentences: Sequence[str], vocab: Vocabulary, max_len: int, max_sentences: int | None,
                   source: str) -> list[tuple[str, list[int]]]:
    """(line, ids) of the non-empty sentences of at most `max_len` units (the first `max_sentences`)."""
    out = [(s, ids) for s, ids in ((s, vocab.encode(vocab.split(s))) for s in sentences) if 0 < len(ids) <= max_len]
    if max_sentences is not None:
        out = out[:max_sentences]
    if not out:
        raise InputError(source, f"no training sentence of 1..{max_len} tokens")
    return out


def encode_corpus(sentences: Sequence[str], vocab: Vocabulary, max_len: int, max_sentences: int | None,
                  source: str) -> list[list[int]]:
    """Id lists of the non-empty sentences of at most `max_len` tokens (the first `max_sentences`)."""
    return [ids for _, ids in kept_sentences(sentences, vocab, max_len, max_sentences, source)]


def length_batches(corpus: list[list[int]], tokens_per_batch: int) -> list[list[int]]:
    """Indices of sentences of similar length, grouped so (sentences x longest + 1) <= tokens_per_batch."""
    order = sorted(range(len(corpus)), key=lambda i: (len(corpus[i]), i))
    batches, current, longest = [], [], 0
    for i in order:
        longest_if = max(longest, len(corpus[i]) + 1)
        if current and longest_if * (len(current) + 1) > tokens_per_batch:
            batches.append(current)
            current, longest_if = [], len(corpus[i]) + 1
        current.append(i)
        longest = longest_if
    if current:
        batches.append(current)
    return batches


def ae_weight(step: int, c: TrainConfig) -> float:
    """Denoising weight: linear from ae_weight_start to ae_weight_end over ae_decay_steps."""
    f = min(1.0, step / c.ae_decay_steps)
    return c.ae_weight_start + f * (c.ae_weight_end - c.ae_weight_start)


def learning_rate(step: int, c: TrainConfig) -> float:
    """Linear warm-up over `warmup` steps, constant, then linear decay to 0 over the last `decay_steps`."""
    decay = min(1.0, (c.steps - step) / c.decay_steps) if c.decay_steps else 1.0
    return c.lr * min(1.0, (step + 1) / max(1, c.warmup)) * decay


def sequence_loss(model: Translator, src: list[list[int]], src_lang: int, tgt: list[list[int]], tgt_lang: int,
                  device: torch.device, smoothing: float) -> tuple[torch.Tensor, int]:
    """Mean token cross-entropy of tgt given src (teacher forcing), and the number of target tokens."""
    s = batch_tensor(src, device, eos_id=EOS_ID)
    t_in = batch_tensor(tgt, device, bos=True)
    t_out = batch_tensor(tgt, device, eos_id=EOS_ID)
    logits = model(s, src_lang, t_in, tgt_lang)
    loss = F.cross_entropy(logits.flatten(0, 1).float(), t_out.flatten(), ignore_index=PAD_ID,
                           label_smoothing=smoothing)
    return loss, int((t_out != PAD_ID).sum())


# share (0-1) of `outputs` that a classifier calls written in side `to`'s style (0 or 1)
StyleJudge = Callable[[Sequence[str], int], float]


def round_trip(tm: TranslationModel, valid: tuple[Sequence[str], Sequence[str]]
               ) -> tuple[tuple[float, float], tuple[list[str], list[str]]]:
    """BLEU of A->B->A and B->A->B reconstructions against the held-out sentences (greedy), and the
    A->B and B->A translations on the way."""
    bleus, there = [], []
    for lang in (0, 1):
        there.append(translate_text(tm, valid[lang], lang, 1 - lang, beam=1))
        back = translate_text(tm, there[-1], 1 - lang, lang, beam=1)
        bleus.append(bleu(back, valid[lang]))
    return (bleus[0], bleus[1]), (there[0], there[1])


def measure(tm: TranslationModel, valid: tuple[Sequence[str], Sequence[str]], judge: StyleJudge | None
            ) -> tuple[float, dict[str, float]]:
    """The selecting criterion of `tm` as it stands, and its parts: round-trip BLEU both ways and, with
    a style `judge`, the shares of the held-out lines' translations judged in the target style."""
    (rt_s, rt_t), there = round_trip(tm, valid)
    if judge is None:
        return round_trip_criterion(rt_s, rt_t), {"round_trip_bleu_src": rt_s, "round_trip_bleu_tgt": rt_t}
    shares = judge(there[0], 1), judge(there[1], 0)
    return style_criterion(rt_s, rt_t, *shares), {"round_trip_bleu_src": rt_s, "round_trip_bleu_tgt": rt_t,
                                                  "style_share_s2t": shares[0], "style_share_t2s": shares[1]}


@dataclass
class TrainState:
    """What a checkpoint holds besides the weights: progress, history and the best model so far."""

    step: int = 0
    seconds: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] | None = None
    best_criterion: float = ROUND_TRIP_BLEU.worst
    best_step: int = -1
    average: dict[str, torch.Tensor] | None = None  # moving average of the floating-point weights

    def keep_if_best(self, criterion: float, weights: Mapping[str, torch.Tensor]) -> bool:
        """Keep a copy of `weights` (a state dict) as the best when `criterion` (this step's) beats
        the best so far by `ROUND_TRIP_BLEU`; whether it did."""
        if not ROUND_TRIP_BLEU.better(criterion, self.best_criterion):
            return False
        self.best_criterion, self.best_step = criterion, self.step
        self.best_state = {k: v.detach().cpu().clone() for k, v in weights.items()}
        return True

    def follow(self, model: Translator, decay: float) -> None:
        """Move the weights' exponential moving average toward `model`'s (started at them)."""
        weights = model.state_dict()
        with torch.no_grad():
            if self.average is None:
                self.average = {k: v.detach().clone() for k, v in weights.items() if v.is_floating_point()}
                return
            for k, average in self.average.items():
                average.lerp_(weights[k], 1 - decay)


@contextmanager
def weights_of(model: Translator, weights: Mapping[str, torch.Tensor]) -> Iterator[None]:
    """`model` with `weights` (some of its state dict) in place of its own, restored after."""
    own = {k: v.detach().clone() for k, v in model.state_dict().items() if k in weights}
    model.load_state_dict(weights, strict=False)
    try:
        yield
    finally:
        model.load_state_dict(own, strict=False)


def save_checkpoint(path: Path, model: Translator, optimizer: torch.optim.Optimizer, gen: torch.Generator,
                    state: TrainState, fingerprint: str, adversary: Adversary | None = None) -> None:
    """Write the checkpoint at `path`, atomically (with the discriminators' state when adversarial)."""
    extra = {} if adversary is None else {"adversary": adversary.state_dict()}
    with atomic_path(Path(path)) as tmp:
        torch.save({"fingerprint": fingerprint, "step": state.step, "seconds": state.seconds,
                    "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "generator": gen.get_state(), "torch_rng": torch.get_rng_state(),
                    "history": state.history, "best_state": state.best_state,
                    "best_criterion": state.best_criterion, "best_step": state.best_step,
                    "average": state.average, **extra}, tmp)


def load_checkpoint(path: Path, model: Translator, optimizer: torch.optim.Optimizer, gen: torch.Generator,
                    fingerprint: str, adversary: Adversary | None = None) -> TrainState | None:
    """Restore a checkpoint written for the same run (`fingerprint`); None when there is none."""
    path = Path(path)
    if not path.is_file():
        return None
    ck = torch.load(path, map_location="cpu", weights_only=True)
    if ck.get("fingerprint") != fingerprint:
        return None
    model.load_state_dict(ck["model"])
    optimizer.load_state_dict(ck["optimizer"])
    gen.set_state(ck["generator"])
    torch.set_rng_state(ck["torch_rng"])
    if adversary is not None:  # same fingerprint, so the run was adversarial too
        adversary.load_state_dict(ck["adversary"])
    return TrainState(ck["step"], ck["seconds"], ck["history"], ck["best_state"], ck["best_criterion"],
                      ck["best_step"], ck.get("average"))


@dataclass
class Corpora:
    """Everything training reads: encoded training sentences, held-out text, word-by-word id maps."""

    train: tuple[list[list[int]], list[list[int]]]
    valid: tuple[list[str], list[str]]
    word_maps: tuple[np.ndarray, np.ndarray]  # language l id -> language 1-l id
    # the warm-up round's pairs from the LM-searched word-by-word translation, per language:
    # (indices into `train[l]`, their translations as language 1-l ids); None: the word maps
    warmup: tuple[tuple[list[int], list[list[int]]], tuple[list[int], list[list[int]]]] | None = None


def new_model(config: TranslateConfig, vocabs: tuple[Vocabulary, Vocabulary],
              aligned: tuple[Embeddings, Embeddings], device: torch.device) -> TranslationModel:
    """A fresh model whose word tables start from the aligned vectors (seeded by config.train.seed)."""
    if aligned[0].dim != aligned[1].dim:
        raise InputError("aligned vectors", f"dimensions differ ({aligned[0].dim} vs {aligned[1].dim})")
    torch.manual_seed(config.train.seed)
    # unit length, as the aligned exports are: the projection's scale is set for that
    init = [v.vectors(Embeddings(e.words, unit_rows(e.vectors)), seed=config.train.seed + i)
            for i, (v, e) in enumerate(zip(vocabs, aligned))]
    copy = copy_targets(vocabs) if config.model.copying else None
    model = Translator(config.model, [vec for vec, _ in init], [miss for _, miss in init], copy).to(device)
    return TranslationModel(model, vocabs, config, device)


def prepare_corpora(train_lines: tuple[Sequence[str], Sequence[str]], valid_lines: tuple[Sequence[str], Sequence[str]],
                    vocabs: tuple[Vocabulary, Vocabulary], lexicons: tuple[dict[str, str], dict[str, str]],
                    config: TranslateConfig, sources: tuple[str, str] = ("source corpus", "target corpus"),
                    searches: tuple[LMWordByWord, LMWordByWord] | None = None) -> Corpora:
    """Encode training text, keep `valid_sentences` held-out lines a side, turn lexicons into id maps.

    searches: language l -> 1-l LM-searched word-by-word translators; when given, up to
    `lm_word_by_word.warmup_sentences` training sentences a side (a seeded sample) are translated
    once here, for the warm-up round's pairs. Subword vocabularies without searches: every training
    sentence is translated word by word with `lexicons` for them.
    """
    c = config.train
    kept = [kept_sentences(lines, v, c.max_len, c.max_sentences, src)
            for lines, v, src in zip(train_lines, vocabs, sources)]
    train_ids = tuple([ids for _, ids in k] for k in kept)
    warmup = None
    translators: tuple[Callable[[list[str]], list[str]], ...] | None = None
    cap = config.lm_word_by_word.warmup_sentences
    if searches is not None:
        translators = tuple(s.translate for s in searches)
    elif any(isinstance(v, SubwordVocabulary) for v in vocabs) and c.word_by_word_steps > 0:
        # a piece has no translation of its own: whole words are translated, then split into pieces
        translators = tuple(partial(translate_words, lexicon=lexicons[lang]) for lang in (0, 1))
        cap = None
    if translators is not None:
        rng = np.random.default_rng(c.seed)
        warmup = []
        for lang in (0, 1):
            n = len(kept[lang])
            pick = sorted(rng.choice(n, cap, replace=False).tolist()) if cap is not None and cap < n else list(range(n))
            out = translators[lang]([kept[lang][i][0] for i in pick])
            warmup.append((pick, [vocabs[1 - lang].encode(vocabs[1 - lang].split(s)) for s in out]))
    valid = tuple([s for s in lines if s.strip()][:c.valid_sentences] for lines in valid_lines)
    for lines, src in zip(valid, sources):
        if not lines:
            raise InputError(src, "no held-out (valid) sentence for the round-trip criterion")
    maps = tuple(id_map(lexicons[i], vocabs[i].words, vocabs[1 - i].index, UNK_ID, len(SPECIALS)) for i in (0, 1))
    return Corpora(train_ids, valid, maps, None if warmup is None else tuple(warmup))  # type: ignore[arg-type]


def fresh_sums() -> dict[str, float]:
    """Running sums between checkpoints: losses, tokens, work and the adversary's step statistics."""
    return {"ae": 0.0, "bt": 0.0, "n": 0, "tokens": 0, "flops": 0, "gen_flops": 0,
            "disc_accuracy": 0.0, "adv_reward": 0.0, "adv_loss": 0.0, "adv_n": 0}


def expected_steps(step: int, seconds: float, c: TrainConfig) -> int:
    """Steps the run will reach: `c.steps`, or fewer when the time budget ends it first (at this pace)."""
    if c.max_minutes is None or seconds <= 0:
        return c.steps
    return max(step, min(c.steps, round(step * 60 * c.max_minutes / seconds)))


@dataclass
class TrainResult:
    best_state: dict[str, torch.Tensor]
    best_step: int
    best_criterion: float
    history: list[dict[str, Any]]
    seconds: float
    resumed_from: int  # step of the checkpoint training started from (0: fresh)
    time_capped: bool = False  # `max_minutes` ended training before `steps`: the model depends on the pace
    peak_flops_per_second: float = 0.0  # `matmul_peak` of the model's shapes, measured at the start of this call

    def summary(self) -> dict[str, Any]:
        """What the model artifact records about its training: the selected checkpoint and its
        round-trip BLEU both ways, steps, time and mean throughput (target tokens per second), the
        matrix-product work of the losses (forward + backward) and of back-translation's greedy
        generation, its rate over the training time (checkpoint evaluation left out), and that rate as a
        fraction of the machine's matmul peak for the model's shapes."""
        best = next((r for r in self.history if r["step"] == self.best_step), {})
        trained = [r for r in self.history if r.get("tokens_per_second")]
        flops = sum(r.get("train_flops", 0) for r in self.history)
        gen_flops = sum(r.get("generation_flops", 0) for r in self.history)
        step_seconds = sum(r.get("step_seconds", 0.0) for r in self.history)
        achieved = (flops + gen_flops) / step_seconds if step_seconds > 0 else 0.0
        rt = (best.get("round_trip_bleu_src"), best.get("round_trip_bleu_tgt"))
        return {"best_step": self.best_step, "criterion": self.best_criterion,
                "round_trip_bleu": round_trip_criterion(*rt) if None not in rt else self.best_criterion,  # type: ignore[arg-type]
                "round_trip_bleu_src": rt[0], "round_trip_bleu_tgt": rt[1],
                **{k: best[k] for k in ("style_share_s2t", "style_share_t2s", "averaged") if k in best},
                "steps": self.history[-1]["step"] if self.history else 0,
                "train_seconds": round(self.seconds, 1),
                "tokens_per_second": round(sum(r["tokens_per_second"] for r in trained) / max(1, len(trained)), 1),
                "resumed_from": self.resumed_from, "time_capped": self.time_capped,
                "train_flops": flops, "generation_flops": gen_flops,
                "step_seconds": round(step_seconds, 2),
                "step_cpu_seconds": round(sum(r.get("step_cpu_seconds", 0.0) for r in self.history), 2),
                "achieved_flops_per_second": round(achieved),
                "peak_flops_per_second": round(self.peak_flops_per_second),
                "peak_fraction": round(achieved / self.peak_flops_per_second, 4) if self.peak_flops_per_second else None}


def train(tm: TranslationModel, data: Corpora, config: TranslateConfig, checkpoint: Path | None = None,
          fingerprint: str = "", on_checkpoint: Callable[[dict[str, Any]], None] | None = None,
          on_step: Callable[[int, int, dict[str, Any]], None] | None = None,
          stop_after: int | None = None, judge: StyleJudge | None = None) -> TrainResult:
    """Train `tm.model` in place; resume from `checkpoint` when it holds this run's state.

    Checkpoints are selected by round-trip BLEU; with `judge` (two styles of one language), by
    `style_criterion`, the judged shares of the held-out sentences' translations recorded beside it.

    on_checkpoint(row): after each checkpoint, with its history row (losses, round-trip BLEU).
    on_step(done, total, metrics): after each step, for progress display.

    stop_after: end (without a final checkpoint) after this many steps of this call; for tests
    that simulate an interrupted run.

    Runs on `config.train.threads` torch threads (the process's count when None), restored after.
    """
    before = torch.get_num_threads()
    # set even when unchanged: OpenMP keeps its team size per OS thread, so in a worker thread (a
    # Prefect task) products would otherwise run on OpenMP's default team, whatever the main thread set
    torch.set_num_threads(config.train.threads or before)
    try:
        return _train(tm, data, config, checkpoint, fingerprint, on_checkpoint, on_step, stop_after, judge)
    finally:
        torch.set_num_threads(before)


def _train(tm: TranslationModel, data: Corpora, config: TranslateConfig, checkpoint: Path | None,
           fingerprint: str, on_checkpoint: Callable[[dict[str, Any]], None] | None,
           on_step: Callable[[int, int, dict[str, Any]], None] | None, stop_after: int | None,
           judge: StyleJudge | None) -> TrainResult:
    c, model, device = config.train, tm.model, tm.device
    gen = torch.Generator().manual_seed(c.seed)
    torch.manual_seed(c.seed)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=c.lr,
                                 betas=(0.9, 0.98))
    adversary = (None if config.adversary.mode == AdversaryMode.NONE else
                 Adversary(config.adversary, (model.vocab_size(0), model.vocab_size(1)), device, c.seed))
    state = (load_checkpoint(checkpoint, model, optimizer, gen, fingerprint, adversary) if checkpoint else None
             ) or TrainState()
    resumed_from = state.step
    batches = [length_batches(corpus, c.tokens_per_batch) for corpus in data.train]
    if data.warmup is not None:  # batches of the translated sentences (positions in data.warmup[l])
        warm_batches = [length_batches([data.train[lang][i] for i in data.warmup[lang][0]], c.tokens_per_batch)
                        for lang in (0, 1)]
    maps = [torch.from_numpy(m) for m in data.word_maps]
    autocast = device.type == "cuda" and c.mixed_precision
    e = model.tables[0].shape[1]  # word-vector width
    peak = matmul_peak(model_shapes(config.model, c.tokens_per_batch, max(map(model.vocab_size, (0, 1)))), device,
                       dtype=torch.bfloat16 if autocast else torch.float32)
    sums = fresh_sums()
    clock, cpu_clock, steps_here, capped = time.perf_counter(), time.process_time(), 0, False
    model.train()
    while state.step < c.steps:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(state.step, c)
        w_ae, w_bt = ae_weight(state.step, c), c.bt_weight
        total = torch.zeros((), device=device)
        sources: list[list[list[int]]] = [[], []]  # each language's real sentences of this step
        for lang in (0, 1):
            pick = batches[lang][int(torch.randint(len(batches[lang]), (1,), generator=gen))]
            x = [data.train[lang][i] for i in pick]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                if w_ae > 0:
                    noisy = [add_noise(s, config.noise, gen) for s in x]
                    loss, n = sequence_loss(model, noisy, lang, x, lang, device, c.label_smoothing)
                    total = total + w_ae * loss
                    sums["ae"] += loss.item()
                    sums["tokens"] += n
                    sums["flops"] += train_flops(config.model, len(x), max(map(len, noisy)) + 1,
                                                 max(map(len, x)) + 1, model.vocab_size(lang), e)
                if w_bt > 0:
                    if state.step < c.word_by_word_steps and data.warmup is not None:
                        index, translated = data.warmup[lang]
                        warm = warm_batches[lang][int(torch.randint(len(warm_batches[lang]), (1,), generator=gen))]
                        x = [data.train[lang][index[i]] for i in warm]
                        y = [translated[i] for i in warm]
                    elif state.step < c.word_by_word_steps:
                        y = [maps[lang][s].tolist() for s in x]
                    else:
                        y = greedy(model, x, lang, 1 - lang, device, max_len_a=1.3, max_len_b=5)
                        sums["gen_flops"] += greedy_call_flops(config.model, x, y, model.vocab_size(1 - lang), e,
                                                               1.3, 5)
                    y = [s if s else [UNK_ID] for s in y]
                    loss, n = sequence_loss(model, y, 1 - lang, x, lang, device, c.label_smoothing)
                    total = total + w_bt * loss
                    sums["bt"] += loss.item()
                    sums["tokens"] += n
                    sums["flops"] += train_flops(config.model, len(x), max(map(len, y)) + 1,
                                                 max(map(len, x)) + 1, model.vocab_size(lang), e)
            sources[lang] = x
        if adversary is not None and state.step >= config.adversary.start_step:
            # FLOP accounting leaves the adversary's sampling and discriminators out
            loss, stats = adversary.step(model, sources, gen, autocast)
            total = total + config.adversary.weight * loss
            for k, v in stats.items():
                sums[k] += v
            sums["adv_n"] += 1
        if not torch.isfinite(total):
            raise TrainingDiverged(f"loss is {total.item()} at step {state.step}")
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), c.clip)
        optimizer.step()
        state.step += 1
        steps_here += 1
        if c.average_decay is not None and state.step >= c.average_from:
            state.follow(model, c.average_decay)
        sums["n"] += 1
        elapsed = state.seconds + time.perf_counter() - clock
        out_of_time = c.max_minutes is not None and elapsed >= 60 * c.max_minutes
        last = state.step >= c.steps or out_of_time
        if on_step:
            on_step(state.step, state.step if last else expected_steps(state.step, elapsed, c),
                    {"loss": total.item(), "best criterion": max(0.0, state.best_criterion)})
        if state.step % c.checkpoint_every == 0 or last:
            now, cpu_now = time.perf_counter(), time.process_time()
            criterion, parts = measure(tm, data.valid, judge)
            weights, averaged = model.state_dict(), {}
            if state.average is not None:  # the average competes with the weights; the row is the better one's
                with weights_of(model, state.average):
                    average_criterion, average_parts = measure(tm, data.valid, judge)
                averaged = {"criterion_weights": criterion, "criterion_average": average_criterion,
                            "averaged": ROUND_TRIP_BLEU.better(average_criterion, criterion)}
                if averaged["averaged"]:
                    criterion, parts, weights = average_criterion, average_parts, {**weights, **state.average}
            state.seconds += time.perf_counter() - clock  # training and measuring
            row = {"step": state.step, "ae_loss": sums["ae"] / max(1, 2 * sums["n"]),
                   "bt_loss": sums["bt"] / max(1, 2 * sums["n"]), "ae_weight": w_ae,
                   **parts, "criterion": criterion, **averaged,
                   "tokens_per_second": sums["tokens"] / max(1e-9, now - clock),
                   "train_flops": sums["flops"], "generation_flops": sums["gen_flops"],
                   "step_seconds": now - clock, "step_cpu_seconds": cpu_now - cpu_clock,
                   "seconds": state.seconds, "best": state.keep_if_best(criterion, weights)}
            if adversary is not None:  # None before the adversary's first step
                row.update({k: sums[k] / sums["adv_n"] if sums["adv_n"] else None
                            for k in ("disc_accuracy", "adv_reward", "adv_loss")})
            state.history.append(row)
            model.train()
            if checkpoint:
                save_checkpoint(checkpoint, model, optimizer, gen, state, fingerprint, adversary)
            if on_checkpoint:
                on_checkpoint(row)
            sums = fresh_sums()
            clock, cpu_clock = time.perf_counter(), time.process_time()
            if out_of_time and state.step < c.steps:
                capped = True
                break
        if stop_after is not None and steps_here >= stop_after:
            break
    if state.best_state is None:  # stopped before the first checkpoint (tests)
        state.best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
    return TrainResult(state.best_state, state.best_step, state.best_criterion, state.history,
                       state.seconds, resumed_from, capped, peak)
