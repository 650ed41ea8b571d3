"""Stage 3: unsupervised translation by denoising and on-the-fly back-translation, beside word-by-word."""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow
from pydantic import BaseModel

from components import presets
from components.backtranslate.bundle import load_bundle, model_directory, translate_text
from components.backtranslate.config import AdversaryMode, BacktranslateStageConfig
from components.backtranslate.criterion import ROUND_TRIP_BLEU
from components.backtranslate.metrics import SCORE_KEYS, SIGNATURE_KEYS, STANDARD_KEYS
from components.device import DeviceRequest
from components.errors import InputError
from components.report import Column, Criterion, Row, RowKind, StageReport
from components.store import ArtifactRef
from components.text import detokenize, prepare_sentence
from flows.runner import ComputeThreadPoolTaskRunner
from tasks.backtranslate.evaluate import evaluate_translation
from tasks.backtranslate.report import plot_backtranslation, publish_backtranslation_report
from tasks.backtranslate.train import finetune_backtranslation, train_backtranslation
from tasks.backtranslate.wordbyword import lm_word_by_word, word_by_word
from tasks.gpu import device_slot
from tasks.runtime import data_root
from tasks.store import store

MODEL = "back-translation model"
WORD_BY_WORD = "word-by-word (CSLS lexicon)"
WORD_BY_WORD_LM = "word-by-word, top-k CSLS searched with a target LM"


def finetuned_key(mode: AdversaryMode) -> str:
    return f"finetune_{mode.value}"


# row key -> row name: what each continuation of the trained model learns from (FinetuneConfig)
FINETUNED_ROWS = {finetuned_key(mode): name for mode, name in (
    (AdversaryMode.NONE, "+ the same extra updates, no adversary"),
    (AdversaryMode.GUMBEL, "+ adversary, Gumbel-softmax (D reads continuous outputs)"),
    (AdversaryMode.POLICY_GRADIENT, "+ adversary, policy gradient (per-step rewards, baseline)"),
    (AdversaryMode.CONSTANT_REWARD, "+ constant reward (control: sharpening only)"))}


def finetune_runs(trained: Any, src_corpus: ArtifactRef, tgt_corpus: ArtifactRef, alignment: ArtifactRef,
                  config: BacktranslateStageConfig, refresh: bool = False, classifier: Any = None) -> dict[str, Any]:
    """Futures of the trained model (a ref or a future) continued with each of `config.finetune`'s
    modes from the same weights, by row key; none without `config.finetune`. A style `classifier` (ref
    or future) makes each run select by `style_criterion`."""
    if config.finetune is None:
        return {}
    return {finetuned_key(mode): finetune_backtranslation.with_options(refresh_cache=refresh).submit(
        trained, src_corpus, tgt_corpus, alignment, config.finetune.translate_config(config.translate, mode),
        config.device, classifier) for mode in config.finetune.modes}


class BacktranslateResult(BaseModel):
    pair: str
    model: ArtifactRef                   # weights + vocabularies + config: what `translate` takes
    alignment: ArtifactRef               # the aligned vectors the model started from
    metrics: dict[str, Any]              # the model on the test verses
    word_by_word: dict[str, Any]         # the baseline on the same verses
    word_by_word_lm: dict[str, Any] | None = None  # the baseline searched with a target LM (None: a result from before it)
    round_trip_bleu: float               # criterion of the selected checkpoint
    selected_step: int
    plot: str
    seconds: float
    criterion: Criterion = ROUND_TRIP_BLEU  # what selected the checkpoint (name and direction)
    finetuned: dict[str, dict[str, Any]] = {}  # continuation row key -> its test metrics and round_trip_bleu

    def rows(self) -> list[Row]:
        """The model (unsupervised, selected by the criterion) and the word-by-word baselines."""
        def scores(metrics: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in metrics.items() if k != "examples"}

        return [Row(name=MODEL, kind=RowKind.UNSUPERVISED, metrics=scores(self.metrics),
                    criterion=self.round_trip_bleu, selected=True),
                Row(name=WORD_BY_WORD, kind=RowKind.BASELINE, metrics=scores(self.word_by_word))] + (
            [Row(name=WORD_BY_WORD_LM, kind=RowKind.BASELINE, metrics=scores(self.word_by_word_lm))]
            if self.word_by_word_lm is not None else []) + [
            Row(name=FINETUNED_ROWS[key], kind=RowKind.UNSUPERVISED,
                metrics=scores(m), criterion=m["round_trip_bleu"]) for key, m in self.finetuned.items()]

    def selected_row(self) -> Row:
        return next(r for r in self.rows() if r.selected)

    @property
    def standard(self) -> bool:
        """Whether both rows have the standard score (the test kept its raw lines)."""
        return all(k in self.metrics and k in self.word_by_word for k in STANDARD_KEYS)

    def bleu_summary(self) -> str:
        """Test BLEU both ways beside word-by-word: sacreBLEU where there is one, else BLEU on tokens."""
        s, t = self.pair.split("-")
        s2t, t2s = (STANDARD_KEYS if self.standard else SCORE_KEYS)[:2]
        m, w = self.metrics, self.word_by_word
        return (f"{'sacreBLEU' if self.standard else 'BLEU on tokens'} {s}->{t} {m[s2t]:.2f} (word-by-word "
                f"{w[s2t]:.2f}), {t}->{s} {m[t2s]:.2f} (word-by-word {w[t2s]:.2f})")

    def _scoring_note(self) -> str:
        if not self.standard:
            return ("The test set has no raw verses (it was stored before they were kept): BLEU and chrF are "
                    "on the project's tokens only; prepare the corpus again for sacreBLEU.")
        m = self.metrics
        return (f"BLEU is sacreBLEU `{m['sacrebleu_signature']}` and chrF `{m['sacrechrf_signature']}`: the "
                f"output detokenised, against the test verses as read; case:lc because the models emit "
                f"lowercased text. tok. BLEU: the lowercased tokens on both sides (tokenize none), as "
                f"round-trip BLEU is measured.")

    def _columns(self) -> list[Column]:
        s, t = self.pair.split("-")
        tokens = [Column(key="bleu_s2t", header=f"tok. BLEU {s}->{t}"),
                  Column(key="bleu_t2s", header=f"tok. BLEU {t}->{s}")]
        if not self.standard:
            return tokens + [Column(key="chrf_s2t", header=f"tok. chrF {s}->{t}", digits=1),
                             Column(key="chrf_t2s", header=f"tok. chrF {t}->{s}", digits=1)]
        return [Column(key="sacrebleu_s2t", header=f"BLEU {s}->{t}"),
                Column(key="sacrebleu_t2s", header=f"BLEU {t}->{s}"),
                Column(key="sacrechrf_s2t", header=f"chrF {s}->{t}", digits=1),
                Column(key="sacrechrf_t2s", header=f"chrF {t}->{s}", digits=1)] + tokens

    def _throughput_note(self) -> str:
        meta = self.model.meta
        if not meta.get("peak_fraction"):  # models trained before the FLOP accounting
            return ""
        return (f", {meta['achieved_flops_per_second'] / 1e9:.2f} GFLOP/s of matrix products = "
                f"{meta['peak_fraction']:.0%} of this device's {meta['peak_flops_per_second'] / 1e9:.1f} GFLOP/s "
                f"matmul peak for the model's shapes")

    def report(self) -> StageReport:
        """Test BLEU / chrF of both rows, how they were scored, how the checkpoint was chosen, where
        the model is."""
        meta, m = self.model.meta, self.metrics
        best = self.criterion.superlative
        notes = [f"Selected checkpoint: step {self.selected_step} of {meta.get('steps')}, {best} "
                 f"{self.criterion.name} ({self.round_trip_bleu:.2f}; the test verses are never used for "
                 f"selection).",
                 f"Test {self.bleu_summary()}; beam {m.get('beam')}, {m.get('test_sentences')} verses.",
                 self._scoring_note(),
                 f"Aligned vectors: {self.alignment.meta.get('method', '?')} seed "
                 f"{self.alignment.meta.get('seed', '?')} (`{self.alignment.sha256[:12]}`). Training "
                 f"{meta.get('train_seconds', 0):.0f} s, {meta.get('tokens_per_second', 0):.0f} target tokens/s "
                 f"on {meta.get('device')}{self._throughput_note()}.",
                 f"Model: `{store().path(self.model)}`"]
        return StageReport(key=f"translation-{self.pair}", title=f"Translation {self.pair}", columns=self._columns(),
                           rows=self.rows(), notes=notes, plots={"training": self.plot})


@flow(name="backtranslate", log_prints=True, task_runner=ComputeThreadPoolTaskRunner())
def backtranslate(src_corpus: ArtifactRef, tgt_corpus: ArtifactRef, test: ArtifactRef, alignment: ArtifactRef,
                  config: BacktranslateStageConfig = presets.preset("quick").backtranslate,
                  refresh: bool = False) -> BacktranslateResult:
    """Train on two monolingual corpora, select by round-trip BLEU, evaluate beside word-by-word."""
    start = time.perf_counter()
    opts = {"refresh_cache": refresh}
    src_lang, tgt_lang = src_corpus.meta["lang"], tgt_corpus.meta["lang"]
    pair = f"{src_lang}-{tgt_lang}"
    baseline = word_by_word.with_options(**opts).submit(alignment, test, src_lang, tgt_lang,
                                                        config.translate.csls_k, config.test_sentences)
    baseline_lm = lm_word_by_word.with_options(**opts).submit(alignment, test, src_corpus, tgt_corpus,
                                                              config.translate, config.test_sentences)
    model = train_backtranslation.with_options(**opts).submit(src_corpus, tgt_corpus, alignment, config.translate,
                                                              config.device).result()
    continued = finetune_runs(model, src_corpus, tgt_corpus, alignment, config, refresh)
    evaluations = {key: evaluate_translation.with_options(**opts).submit(run, test, config.eval_beam,
                                                                         config.test_sentences, config.device)
                   for key, run in continued.items()}
    metrics = evaluate_translation.with_options(**opts).submit(model, test, config.eval_beam,
                                                               config.test_sentences, config.device).result()
    finetuned = {key: {**evaluations[key].result(), "round_trip_bleu": run.result().meta["round_trip_bleu"]}
                 for key, run in continued.items()}
    wbw, wbw_lm = baseline.result(), baseline_lm.result()
    plot = plot_backtranslation(model, data_root() / "reports" / f"translation-{pair}.png")
    result = BacktranslateResult(pair=pair, model=model, alignment=alignment, metrics=metrics, word_by_word=wbw,
                                 word_by_word_lm=wbw_lm, finetuned=finetuned,
                                 round_trip_bleu=model.meta["round_trip_bleu"], selected_step=model.meta["best_step"],
                                 plot=str(plot), seconds=time.perf_counter() - start)
    report = result.report()
    publish_backtranslation_report(report, model)
    print(report.markdown(embed_plots=False))  # the UI's copy embeds the plots
    return result


THROUGHPUT_KEYS = ("train_flops", "generation_flops", "step_seconds", "step_cpu_seconds", "achieved_flops_per_second",
                   "peak_flops_per_second", "peak_fraction")


def translation_section(result: BacktranslateResult) -> dict[str, Any]:
    """DESIGN.md section 5 keys of the benchmark report, plus how the numbers were obtained."""
    def scores(metrics: dict[str, Any]) -> dict[str, float]:
        return {k: round(metrics[k], 2) for k in SCORE_KEYS + STANDARD_KEYS if k in metrics}

    meta = result.model.meta
    return {
        **scores(result.metrics),
        **{k: result.metrics[k] for k in SIGNATURE_KEYS if k in result.metrics},
        "scoring": "sacrebleu_* and sacrechrf_*: detokenised output against the raw test verses, with the "
                   "signatures; bleu_* and chrf_*: on the lowercased tokens (tokenize none)",
        "round_trip_bleu": round(result.round_trip_bleu, 2),
        "seconds": round(result.seconds, 1),
        "word_by_word": scores(result.word_by_word),
        **({"word_by_word_lm": scores(result.word_by_word_lm)} if result.word_by_word_lm is not None else {}),
        **({"finetuned": {k: {**scores(m), "round_trip_bleu": round(m["round_trip_bleu"], 2)}
                          for k, m in result.finetuned.items()}} if result.finetuned else {}),
        "model": str(store().path(result.model)),
        "model_sha256": result.model.sha256,
        "selection": "max round-trip BLEU (src->tgt->src and tgt->src->tgt) on held-out monolingual sentences",
        "selected_step": result.selected_step,
        "units": meta.get("units", "word"),
        "copying": meta.get("copying", False),
        "steps": meta.get("steps"),
        "round_trip_bleu_src": meta.get("round_trip_bleu_src"),
        "round_trip_bleu_tgt": meta.get("round_trip_bleu_tgt"),
        "train_seconds": meta.get("train_seconds"),
        "tokens_per_second": meta.get("tokens_per_second"),
        # matrix-product work of training (losses forward + backward, greedy back-translation) over the
        # training time, against a matmul of the model's shapes timed in the same run on the same device
        **{k: meta.get(k) for k in THROUGHPUT_KEYS},
        "device": meta.get("device"),
        "beam": result.metrics.get("beam"),
        "test_sentences": result.metrics.get("test_sentences"),
        "alignment": {"sha256": result.alignment.sha256, "method": result.alignment.meta.get("method"),
                      "seed": result.alignment.meta.get("seed")},
        "plot": result.plot,
    }


def translate(model: ArtifactRef | str | Path, sentences: Sequence[str], direction: str = "s2t", beam: int = 4,
              device: DeviceRequest = "auto", detokenized: bool = True) -> list[str]:
    """Translate raw sentences with a trained model (a ref, its directory, or its sha256).

    direction: 's2t', 't2s' or 'src-tgt' language codes (e.g. 'fr-en'). Text is normalised,
    lowercased and tokenised as the corpus was; the output is lowercased text, detokenised as the
    standard test score sees it, or with `detokenized=False` the model's tokens joined by spaces.
    A word outside the model's vocabulary becomes its word-by-word (CSLS) translation, or passes through
    when the other language spells it the same or the mapping never saw it (names, another script).
    """
    if beam < 1:
        raise InputError(f"beam {beam}", "must be at least 1")
    with device_slot(device) as dev:
        tm = load_bundle(model_directory(model, store()), dev)
        if direction in ("s2t", "t2s"):
            src = 0 if direction == "s2t" else 1
        else:
            parts = direction.split("-")
            if len(parts) != 2 or set(parts) != set(tm.langs) or parts[0] == parts[1]:
                raise InputError(f"direction {direction!r}",
                                 f"expected s2t, t2s, {'-'.join(tm.langs)} or {'-'.join(tm.langs[::-1])}")
            src = tm.side(parts[0])
        tokens = [" ".join(prepare_sentence(s, tm.langs[src], lowercase=True)) for s in sentences]
        out = translate_text(tm, tokens, src, 1 - src, beam=beam)
        lang = tm.langs[1 - src]
    return [detokenize(line.split(), lang) for line in out] if detokenized else out
