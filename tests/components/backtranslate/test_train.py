"""Training: schedules, batching, checkpoints, resume (also after SIGKILL), the model bundle."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from components.errors import InputError
from components.backtranslate.bundle import (clause_segments, fill_files, load_bundle, replace_unknown, save_bundle,
                                             translate_text)
from components.backtranslate.train import (ae_weight, encode_corpus, expected_steps, learning_rate, length_batches,
                                            load_checkpoint, new_model, prepare_corpora, train)
from components.backtranslate.vocab import UNK_ID
from tests.components.backtranslate.conftest import tiny_config

CPU = torch.device("cpu")
ROOT = Path(__file__).resolve().parents[3]


def fresh(pair, config):
    return new_model(config, pair.vocabs, pair.aligned, CPU), prepare_corpora(pair.train, pair.valid, pair.vocabs,
                                                                            pair.lexicons, config)


def test_ae_weight_decays_linearly_then_stays():
    c = tiny_config(ae_weight_start=1.0, ae_weight_end=0.2, ae_decay_steps=10).train
    assert [round(ae_weight(s, c), 2) for s in (0, 5, 10, 50)] == [1.0, 0.6, 0.2, 0.2]


def test_learning_rate_warms_up_holds_then_decays_to_zero_at_the_budgets_end():
    c = tiny_config(steps=100, warmup=10, decay_steps=40, lr=1e-3).train
    rates = [learning_rate(s, c) for s in range(100)]
    assert rates[0] == pytest.approx(1e-4) and rates[9] == pytest.approx(1e-3)
    assert rates[10:61] == [pytest.approx(1e-3)] * 51
    assert all(a > b > 0 for a, b in zip(rates[60:], rates[61:])) and rates[99] == pytest.approx(1e-3 / 40)
    assert learning_rate(50, tiny_config(steps=100, warmup=10).train) == pytest.approx(1e-3)  # no decay by default


def test_length_batches_cover_every_sentence_once_within_the_token_budget():
    corpus = [[1] * n for n in (3, 9, 1, 4, 4, 12, 2, 7)]
    batches = length_batches(corpus, 20)
    assert sorted(i for b in batches for i in b) == list(range(len(corpus)))
    assert all(len(b) == 1 or len(b) * max(len(corpus[i]) + 1 for i in b) <= 20 for b in batches)


def test_empty_or_unusable_corpus_names_the_input(pair):
    with pytest.raises(InputError, match="fr corpus"):
        encode_corpus(["", "   "], pair.vocabs[0], 10, None, "fr corpus")
    with pytest.raises(InputError, match="target corpus"):
        prepare_corpora(pair.train, (pair.valid[0], []), pair.vocabs, pair.lexicons, tiny_config())


def assert_resume_matches_uninterrupted(pair, config, ck: Path, check_load: bool = False):
    """Train `config` (20 steps, checkpoints every 10) straight, and stopped after 10 steps then
    resumed from checkpoint `ck`: the weights and criteria agree. Returns both runs' results."""
    straight, data = fresh(pair, config)
    full = train(straight, data, config)

    first, data = fresh(pair, config)
    part = train(first, data, config, checkpoint=ck, fingerprint="run", stop_after=10)
    assert part.resumed_from == 0 and len(part.history) == 1

    if check_load:
        loaded, _ = fresh(pair, config)
        opt = torch.optim.Adam(loaded.model.parameters())
        state = load_checkpoint(ck, loaded.model, opt, torch.Generator(), "run")
        assert state is not None and state.step == 10
        for k, v in first.model.state_dict().items():
            torch.testing.assert_close(loaded.model.state_dict()[k], v)
        assert load_checkpoint(ck, loaded.model, opt, torch.Generator(), "another run") is None

    second, data = fresh(pair, config)
    rest = train(second, data, config, checkpoint=ck, fingerprint="run")
    assert rest.resumed_from == 10 and [r["step"] for r in rest.history] == [10, 20]
    for k, v in straight.model.state_dict().items():  # same result as the uninterrupted run
        torch.testing.assert_close(second.model.state_dict()[k], v, rtol=1e-4, atol=1e-5)
    assert rest.best_criterion == pytest.approx(full.best_criterion)
    return full, rest


def test_checkpoint_round_trips_and_resume_continues_from_the_saved_step(pair, tmp_path):
    assert_resume_matches_uninterrupted(pair, tiny_config(steps=20, checkpoint_every=10), tmp_path / "run.pt",
                                        check_load=True)


_KILLED = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    from tests.components.backtranslate.conftest import cipher_pair, tiny_config
    from components.backtranslate.train import new_model, prepare_corpora, train
    pair, config = cipher_pair(), tiny_config(steps=100000, checkpoint_every=5, valid_sentences=5)
    tm = new_model(config, pair.vocabs, pair.aligned, torch.device("cpu"))
    data = prepare_corpora(pair.train, pair.valid, pair.vocabs, pair.lexicons, config)
    train(tm, data, config, checkpoint=sys.argv[1], fingerprint="killed",
          on_checkpoint=lambda row: print(row["step"], flush=True))
""")


def test_a_process_killed_with_sigkill_resumes_from_its_checkpoint(pair, tmp_path):
    ck = tmp_path / "killed.pt"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED, str(ck)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 120
        steps = []
        while len(steps) < 2 and time.monotonic() < deadline:  # two checkpoints written
            line = proc.stdout.readline()
            if not line:
                break
            steps.append(int(line))
        assert len(steps) == 2, "training subprocess wrote no checkpoints"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    saved = torch.load(ck, weights_only=True)["step"]
    assert saved >= 10
    config = tiny_config(steps=saved + 5, checkpoint_every=5, valid_sentences=5)
    tm, data = fresh(pair, config)
    result = train(tm, data, config, checkpoint=ck, fingerprint="killed")
    assert result.resumed_from == saved
    assert [r["step"] for r in result.history][-2:] == [saved, saved + 5]


@pytest.mark.parametrize("copying", [False, True])
def test_bundle_round_trips_and_translates_any_input_sanely(pair, tmp_path, copying):
    config = tiny_config(steps=10)
    config = config.model_copy(update={"model": config.model.model_copy(update={"copying": copying})})
    tm, data = fresh(pair, config)
    train(tm, data, config)
    save_bundle(tmp_path, tm.model.state_dict(), tm.vocabs, config, {"note": "test"})
    loaded = load_bundle(tmp_path, CPU)
    sentences = pair.test_src[:5] + ["", "日本語 の 文 ."]
    for beam in (1, 2):
        assert translate_text(loaded, sentences, 0, 1, beam=beam) == translate_text(tm, sentences, 0, 1, beam=beam)
    out = translate_text(loaded, sentences, 0, 1)
    assert out[5] == "" and all(isinstance(s, str) for s in out)
    with pytest.raises(InputError, match="not a translation model"):
        load_bundle(tmp_path / "nowhere", CPU)
    with pytest.raises(InputError, match="xa and xb"):
        loaded.side("de")


def test_clause_segments_cut_long_input_after_clause_ends_into_runs_that_fit():
    words = "a b . c d ; e f g".split()
    ones = [1] * len(words)
    assert clause_segments(words, ones, 9) == [words]  # fits: untouched
    assert clause_segments(words, ones, 4) == [["a", "b", "."], ["c", "d", ";"], ["e", "f", "g"]]
    assert clause_segments(words, ones, 6) == [["a", "b", ".", "c", "d", ";"], ["e", "f", "g"]]
    assert clause_segments(words, ones, 2) == [["a", "b", "."], ["c", "d", ";"], ["e", "f", "g"]]  # clauses stay whole
    assert clause_segments("x y z 。 w ؟ v".split(), [1] * 7, 4) == [["x", "y", "z", "。"], ["w", "؟", "v"]]


def test_input_longer_than_training_is_translated_clause_by_clause(pair):
    config = tiny_config(steps=40, word_by_word_steps=40, checkpoint_every=40, max_len=10)
    tm, data = fresh(pair, config)
    train(tm, data, config)
    three = pair.test_src[:3]  # 6-8 words each: together over max_len
    long = " ".join(three)
    each = translate_text(tm, three, 0, 1)
    assert all(each) and translate_text(tm, [long], 0, 1) == [" ".join(each)]
    tm.config = config.model_copy(update={"decode": config.decode.model_copy(update={"split_long": False})})
    whole = translate_text(tm, [long], 0, 1)[0]
    assert whole != " ".join(each)  # one pass over all of it


def test_unknown_output_words_are_filled_from_unknown_source_words():
    assert replace_unknown(["a", "zeus", "b", "hera"], [7, UNK_ID, 8, UNK_ID],
                           ["x", "<unk>", "y", "<unk>", "<unk>"]) == ["x", "zeus", "y", "hera"]
    assert replace_unknown(["a", "zeus", "b", "hera"], [7, UNK_ID, 8, UNK_ID],
                           ["x", "<unk>", "y", "<unk>"], {"hera": "juno"}) == ["x", "zeus", "y", "juno"]


def test_bundle_keeps_the_unknown_word_fills(pair, tmp_path):
    config = tiny_config(steps=2)
    tm, _ = fresh(pair, config)
    save_bundle(tmp_path, tm.model.state_dict(), tm.vocabs, config, {}, ({"zeus": "jupiter"}, {"héra": "juno"}))
    assert load_bundle(tmp_path, CPU).fills == ({"zeus": "jupiter"}, {"héra": "juno"})
    for name in fill_files(*tm.langs):
        (tmp_path / name).unlink()
    assert load_bundle(tmp_path, CPU).fills == ({}, {})  # a model saved before fills: every unknown word copied


def test_frozen_embeddings_keep_aligned_vectors_and_learn_missing_ones(pair):
    config = tiny_config(steps=3, checkpoint_every=3)
    config = config.model_copy(update={"model": config.model.model_copy(update={"embeddings": "frozen"})})
    tm, data = fresh(pair, config)
    before = tm.model.table(0).detach().clone()
    progress = []
    train(tm, data, config, on_step=lambda done, total, metrics: progress.append((done, total)))
    after = tm.model.table(0).detach()
    missing = tm.model.missing0
    assert missing.any() and (~missing).any()
    torch.testing.assert_close(after[~missing], before[~missing])
    assert not torch.allclose(after[missing], before[missing])
    assert progress == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_training_and_search_run_on_cuda_with_mixed_precision(pair):
    config = tiny_config(steps=4, checkpoint_every=2, word_by_word_steps=2)
    config = config.model_copy(update={"model": config.model.model_copy(update={"copying": True})})
    tm = new_model(config, pair.vocabs, pair.aligned, torch.device("cuda"))
    data = prepare_corpora(pair.train, pair.valid, pair.vocabs, pair.lexicons, config)
    result = train(tm, data, config)
    assert result.history[-1]["step"] == 4
    assert len(translate_text(tm, pair.test_src[:3], 0, 1, beam=2)) == 3
    summary = result.summary()  # peak timed in bfloat16 on the GPU, as autocast computes
    assert summary["peak_flops_per_second"] > 0 and summary["peak_fraction"] > 0


def test_expected_steps_follow_the_time_budget():
    budget = tiny_config(steps=1000, max_minutes=10).train
    assert expected_steps(50, 60.0, budget) == 500        # 50 steps a minute, 10 minutes
    assert expected_steps(50, 1.0, budget) == 1000        # the step limit comes first
    assert expected_steps(50, 6000.0, budget) == 50       # never fewer than done
    assert expected_steps(50, 60.0, tiny_config(steps=1000).train) == 1000  # no budget


def test_the_step_budget_not_the_pace_decides_the_model(pair):
    # the same config trained at full speed and with every step slowed down (a loaded machine)
    # gives the same weights: the budget is in steps, the time cap far away does not fire
    config = tiny_config(steps=12, checkpoint_every=6, max_minutes=60)
    runs = []
    for delay in (0.0, 0.02):
        tm, data = fresh(pair, config)
        result = train(tm, data, config, on_step=lambda *_: time.sleep(delay))
        runs.append(result)
    assert [r.history[-1]["step"] for r in runs] == [12, 12] and not any(r.time_capped for r in runs)
    for k, v in runs[0].best_state.items():
        torch.testing.assert_close(runs[1].best_state[k], v, rtol=0, atol=0)


def test_time_budget_ends_training_with_a_checkpoint(pair, tmp_path):
    config = tiny_config(steps=1000, checkpoint_every=500, max_minutes=1e-6)
    tm, data = fresh(pair, config)
    progress = []
    result = train(tm, data, config, checkpoint=tmp_path / "budget.pt", fingerprint="budget",
                   on_step=lambda done, total, metrics: progress.append((done, total)))
    assert [r["step"] for r in result.history] == [1] and result.best_step == 1
    assert result.time_capped and result.summary()["time_capped"]
    assert progress == [(1, 1)]  # the progress bar ends full, not at 1/1000
    assert torch.load(tmp_path / "budget.pt", weights_only=True)["step"] == 1


class _Criterion:
    """Stands in for round-trip BLEU: the given (src, tgt) values in turn, each call also
    snapshotting the weights the model had when it was measured."""

    def __init__(self, values):
        self.values, self.weights = list(values), []

    def __call__(self, tm, valid):
        self.weights.append({k: v.detach().clone() for k, v in tm.model.state_dict().items()})
        return self.values[len(self.weights) - 1], (["out"] * len(valid[0]), ["out"] * len(valid[1]))


def test_selection_keeps_the_checkpoint_with_the_best_criterion_among_four(pair, monkeypatch):
    # mean criteria 1, 6, 2, 5.95: the best is the second checkpoint, neither the first nor the last
    fake = _Criterion([(1.0, 1.0), (5.0, 7.0), (2.0, 2.0), (6.0, 5.9)])
    monkeypatch.setattr("components.backtranslate.train.round_trip", fake)
    config = tiny_config(steps=40, checkpoint_every=10)
    tm, data = fresh(pair, config)
    result = train(tm, data, config)
    assert [r["step"] for r in result.history] == [10, 20, 30, 40]
    assert [r["criterion"] for r in result.history] == pytest.approx([1.0, 6.0, 2.0, 5.95])
    assert [r["best"] for r in result.history] == [True, True, False, False]
    assert result.best_step == 20 and result.best_criterion == pytest.approx(6.0)
    for k, v in fake.weights[1].items():  # the weights kept are those measured at step 20
        torch.testing.assert_close(result.best_state[k], v.cpu(), rtol=0, atol=0)
    assert any(not torch.equal(result.best_state[k], v.cpu()) for k, v in tm.model.state_dict().items())
    summary = result.summary()
    assert (summary["best_step"], summary["round_trip_bleu"], summary["round_trip_bleu_src"],
            summary["round_trip_bleu_tgt"], summary["steps"]) == (20, pytest.approx(6.0), 5.0, 7.0, 40)


def test_a_style_judge_selects_by_round_trip_and_judged_share_together(pair, monkeypatch):
    # round trips 90, 80, 60 with judged shares 0.1, 0.6, 0.9: geometric means 30, 69.3, 73.5
    fake = _Criterion([(90.0, 90.0), (80.0, 80.0), (60.0, 60.0)])
    monkeypatch.setattr("components.backtranslate.train.round_trip", fake)
    shares = iter([0.1, 0.1, 0.5, 0.7, 0.9, 0.9])  # (s2t, t2s) at each checkpoint
    judged = []
    def judge(outputs, to):
        judged.append((len(outputs), to))
        return next(shares)
    config = tiny_config(steps=30, checkpoint_every=10)
    tm, data = fresh(pair, config)
    result = train(tm, data, config, judge=judge)
    assert judged == [(len(data.valid[0]), 1), (len(data.valid[1]), 0)] * 3  # each side's outputs, judged as the other
    assert [r["criterion"] for r in result.history] == pytest.approx([30.0, (80 * 60) ** 0.5, (60 * 90) ** 0.5])
    assert result.best_step == 30  # round-trip BLEU alone would keep step 10
    summary = result.summary()
    assert summary["round_trip_bleu"] == 60.0 and summary["criterion"] == pytest.approx(73.48, abs=0.01)
    assert (summary["style_share_s2t"], summary["style_share_t2s"]) == (0.9, 0.9)


def test_a_tie_keeps_the_earlier_checkpoint(pair, monkeypatch):
    fake = _Criterion([(3.0, 3.0), (2.0, 4.0), (0.0, 0.0)])
    monkeypatch.setattr("components.backtranslate.train.round_trip", fake)
    config = tiny_config(steps=30, checkpoint_every=10)
    tm, data = fresh(pair, config)
    result = train(tm, data, config)
    assert result.best_step == 10 and [r["best"] for r in result.history] == [True, False, False]


def test_the_weights_moving_average_competes_at_checkpoints_without_changing_training(pair, monkeypatch):
    # step 10: the weights alone (1); step 20: weights 2, average 5 (kept); step 30: weights 4, average 3
    fake = _Criterion([(1.0, 1.0), (2.0, 2.0), (5.0, 5.0), (4.0, 4.0), (3.0, 3.0)])
    monkeypatch.setattr("components.backtranslate.train.round_trip", fake)
    config = tiny_config(steps=30, checkpoint_every=10, average_decay=0.8, average_from=15)
    tm, data = fresh(pair, config)
    expected: dict[str, torch.Tensor] = {}
    def follow(step, *_):  # the average computed here, independently
        for k, v in tm.model.state_dict().items():
            if v.is_floating_point() and 15 <= step <= 20:
                expected[k] = v.detach().clone() if step == 15 else 0.8 * expected[k] + 0.2 * v.detach()
    result = train(tm, data, config, on_step=follow)
    assert len(fake.weights) == 5
    assert [r["criterion"] for r in result.history] == pytest.approx([1.0, 5.0, 4.0])
    assert "averaged" not in result.history[0]
    assert [(r["averaged"], r["criterion_weights"], r["criterion_average"]) for r in result.history[1:]] == [
        (True, pytest.approx(2.0), pytest.approx(5.0)), (False, pytest.approx(4.0), pytest.approx(3.0))]
    assert result.best_step == 20 and result.summary()["averaged"] is True
    for k, v in expected.items():  # the kept weights are the average, as measured
        torch.testing.assert_close(result.best_state[k], v, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(result.best_state[k], fake.weights[2][k], rtol=0, atol=0)
    assert any(not torch.equal(result.best_state[k], fake.weights[1][k]) for k in expected)

    monkeypatch.setattr("components.backtranslate.train.round_trip", _Criterion([(1.0, 1.0)] * 3))
    plain = tiny_config(steps=30, checkpoint_every=10)
    alone, data = fresh(pair, plain)
    train(alone, data, plain)
    for k, v in alone.model.state_dict().items():  # measuring the average leaves training's weights as they were
        torch.testing.assert_close(tm.model.state_dict()[k], v, rtol=0, atol=0)


def test_the_weights_average_survives_resume(pair, tmp_path):
    config = tiny_config(steps=20, checkpoint_every=10, average_decay=0.9, average_from=5)
    full, rest = assert_resume_matches_uninterrupted(pair, config, tmp_path / "run.pt")
    assert [r.get("criterion_average") for r in rest.history] == pytest.approx(
        [r.get("criterion_average") for r in full.history])
    for k, v in full.best_state.items():
        torch.testing.assert_close(rest.best_state[k], v, rtol=1e-4, atol=1e-5)


def test_a_bundle_of_two_styles_of_one_language_keeps_each_sides_vocabulary(pair, tmp_path):
    from components.backtranslate.vocab import Vocabulary

    config = tiny_config(steps=1)
    tm, _ = fresh(pair, config)
    styles = (Vocabulary("en", tm.vocabs[0].words), Vocabulary("en", tm.vocabs[1].words))
    save_bundle(tmp_path, tm.model.state_dict(), styles, config, {})
    assert load_bundle(tmp_path, CPU).vocabs == styles and styles[0] != styles[1]


def test_subword_units_train_on_whole_word_translations_and_travel_in_the_bundle(pair, tmp_path):
    from components.backtranslate.config import Units
    from components.backtranslate.vocab import SubwordVocabulary
    from components.backtranslate.wordbyword import translate_words

    config = tiny_config(steps=10, word_by_word_steps=5)
    config = config.model_copy(update={"model": config.model.model_copy(update={"units": Units.SUBWORD})})
    vocabs = tuple(SubwordVocabulary.build(lang, lines, 30) for lang, lines in zip(("xa", "xb"), pair.train))
    assert any(len(vocabs[1].split(w)) > 1 for w in pair.lexicons[0].values())  # some words are several pieces
    tm = new_model(config, vocabs, pair.aligned, CPU)
    data = prepare_corpora(pair.train, pair.valid, vocabs, pair.lexicons, config)
    # the warm-up pairs: every training sentence, its words translated by the lexicon, then split into pieces
    for lang in (0, 1):
        index, translated = data.warmup[lang]
        assert len(index) == len(data.train[lang])
        for i, y in list(zip(index, translated))[:20]:
            line = vocabs[lang].join(vocabs[lang].decode(data.train[lang][i]))
            assert vocabs[1 - lang].join(vocabs[1 - lang].decode(y)) == translate_words([line], pair.lexicons[lang])[0]
    result = train(tm, data, config)
    assert result.history[-1]["step"] == 10
    save_bundle(tmp_path, tm.model.state_dict(), tm.vocabs, config, {})
    loaded = load_bundle(tmp_path, CPU)
    assert loaded.vocabs == vocabs and loaded.config.model.units == Units.SUBWORD
    sentences = pair.test_src[:5] + ["", "the ŋ ."]
    out = translate_text(loaded, sentences, 0, 1)
    assert out == translate_text(tm, sentences, 0, 1) and out[5] == ""
    assert all("\u2581" not in s for s in out)  # pieces are joined back into words
