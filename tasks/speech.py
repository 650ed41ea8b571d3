"""Tasks of the speech stage: audio and text preparation, segmentation, GAN seeds, references,
decoding, evaluation, the packaged model and the report."""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from components.atomic import atomic_path
from components.device import DeviceRequest
from components.errors import InputError
from components.sources import default_bible_db
from components.speech.audio import read_audio
from components.speech.config import (FeaturesConfig, GanConfig, GeneratorConfig, LmConfig, SegmentConfig,
                                      SpeechConfig, SpeechDataConfig, SupervisedConfig)
from components.speech.corpus import (Utterance, bible_speech_split, directory_utterances, read_transcripts,
                                      text_sentences)
from components.speech.criterion import lm_sequences, weighted_lm_ppl
from components.speech.features import extract_features
from components.speech.gan import TrainedGenerator, train_gan, transcribe
from components.speech.lm import NgramLM
from components.speech.metrics import confusion_counts, phone_error_rate, word_error_rate
from components.speech.model import SpeechModel
from components.speech.phones import (PHONES, SILENCE_ID, Lexicon, decode_ids, encode, read_lexicon,
                                      strip_silence, text_to_phones, words_of, write_lexicon)
from components.speech.segment import SegmentModel, fit_segmenter, segment_labels, segment_utterance
from components.speech.supervised import (most_frequent_phone_baseline, pseudo_labels, random_text_baseline,
                                         train_supervised)
from components.speech.synth import AlignedPhone, frame_labels, synthesise
from components.store import ArtifactRef
from tasks.gpu import device_slot
from tasks.runtime import data_root
from tasks.cache import STAGE_CACHE, checkpoint_dir, run_key
from tasks.store import store



# --- inputs -------------------------------------------------------------------------------

@task(name="speech-utterances")
def speech_utterances(data: SpeechDataConfig) -> dict[str, list[Utterance]]:
    """The audio to prepare: {'train': [...], 'test': [...]} (built-in verses or the user's files)."""
    if data.audio_dir is None:
        train, test, _ = bible_speech_split(default_bible_db(), data.split, data.train_utterances,
                                            data.test_utterances, data.voices, data.min_words, data.max_words,
                                            data.text_sentences, data.seed)
        return {"train": train, "test": test}
    transcripts = read_transcripts(data.transcripts) if data.transcripts else {}
    train = directory_utterances(data.audio_dir, transcripts)
    test = directory_utterances(data.test_audio_dir, transcripts) if data.test_audio_dir else []
    return {"train": train, "test": test}


@task(name="prepare-audio", task_run_name="prepare-audio-{split}-{shard}", cache_policy=STAGE_CACHE)
def prepare_audio(utterances: list[Utterance], features: FeaturesConfig, split: str, shard: int) -> ArtifactRef:
    """Synthesise (built-in) or read (user files) one shard, and extract frame features.

    A file that cannot be used is named in the log and in the artifact's `problems`; the rest
    of the shard goes on.
    """
    log = get_run_logger()
    ids, feats, manifest, problems = [], [], [], {}
    with tempfile.TemporaryDirectory(prefix="speech-") as tmp:
        for u in utterances:
            try:
                aligned: list[AlignedPhone] = []
                if u.path is None:
                    wav = Path(tmp) / "utterance.wav"
                    aligned = synthesise(u.text, u.voice, wav)
                    wave = read_audio(wav)
                else:
                    wave = read_audio(u.path)
                f = extract_features(wave, features, source=u.path or u.id)
            except InputError as e:
                problems[u.id] = str(e)
                log.warning(f"skipped {u.path or u.id}: {e}")
                continue
            ids.append(u.id)
            feats.append(f.to(torch.float32))
            manifest.append({"id": u.id, "text": u.text, "voice": u.voice, "path": u.path, "frames": f.shape[0],
                             "aligned": [[a.phone, a.start, a.end] for a in aligned]})
    meta = {"split": split, "shard": shard, "utterances": len(ids), "problems": problems,
            "frames": sum(m["frames"] for m in manifest), "aligned": bool(manifest and manifest[0]["aligned"])}
    with store().writer("speech-audio", f"audio-{split}-{shard}", meta, directory=True) as out:
        torch.save({"ids": ids, "feats": feats}, out.path / "features.pt")
        (out.path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out.ref


def _manifest(ref: ArtifactRef) -> list[dict[str, Any]]:
    return json.loads((store().path(ref) / "manifest.json").read_text(encoding="utf-8"))


def _features(ref: ArtifactRef) -> list[torch.Tensor]:
    return torch.load(store().path(ref) / "features.pt", weights_only=True)["feats"]


@task(name="prepare-text", cache_policy=STAGE_CACHE)
def prepare_text(data: SpeechDataConfig) -> ArtifactRef:
    """Phonemise the unpaired text (same phone set, pauses as flite places them) and keep its
    words, lexicon and a word list; sentences with no phonemisable word are counted and named."""
    log = get_run_logger()
    if data.text_files:
        sentences = text_sentences(data.text_files)
    else:
        _, _, sentences = bible_speech_split(default_bible_db(), data.split, 0, 0, data.voices, data.min_words,
                                             data.max_words, data.text_sentences, data.seed)
    lexicon = Lexicon.from_cmudict()
    phones, words, dropped = [], [], []
    for s in sentences:
        try:
            phones.append(encode(text_to_phones(s, lexicon)))
            words.append(words_of(s))
        except InputError as e:
            dropped.append(str(e))
    if dropped:
        log.warning(f"{len(dropped)} text sentences dropped, e.g. {dropped[:3]}")
    if not phones:
        raise InputError("unpaired text", f"none of {len(sentences)} sentences has a phonemisable word")
    vocab = sorted({w for s in words for w in s})
    restricted = lexicon.restricted(vocab)
    meta = {"sentences": len(phones), "dropped": len(dropped), "phones": sum(map(len, phones)),
            "words": sum(map(len, words)), "vocabulary": len(restricted.entries)}
    with store().writer("speech-text", "text", meta, directory=True) as out:
        (out.path / "text.json").write_text(json.dumps({"phones": phones, "words": words, "dropped": dropped}),
                                            encoding="utf-8")
        write_lexicon(restricted, out.path / "lexicon.tsv")
    return out.ref


def _text(ref: ArtifactRef) -> dict[str, Any]:
    return json.loads((store().path(ref) / "text.json").read_text(encoding="utf-8"))


def phone_lm(text: ArtifactRef, lm: LmConfig) -> NgramLM:
    """Phone n-gram LM of the unpaired text as the criterion sees it (silence dropped, repeats merged)."""
    return phone_lm_of(_text(text)["phones"], lm)


def phone_lm_of(phones: list[list[int]], lm: LmConfig) -> NgramLM:
    """`phone_lm` of phone-id sentences given directly."""
    return NgramLM.fit(lm_sequences(phones), order=lm.lm_phone_order, discount=lm.lm_discount,
                       vocab=[i for i in range(len(PHONES)) if i != SILENCE_ID])


def word_lm(text: ArtifactRef, lm: LmConfig) -> NgramLM:
    """Word n-gram LM of the unpaired text, for decoding."""
    return NgramLM.fit(_text(text)["words"], order=lm.lm_word_order, discount=lm.lm_discount)


# --- segmentation --------------------------------------------------------------------------

@task(name="fit-segmenter", cache_policy=STAGE_CACHE)
def fit_segmentation(audio: list[ArtifactRef], segment: SegmentConfig, seed: int = 0) -> ArtifactRef:
    """Fit the unsupervised segmenter (k-means units when used, PCA) on the training audio."""
    feats = [f for ref in audio for f in _features(ref)]
    if not feats:
        raise InputError("training audio", "no usable utterance")
    model = fit_segmenter(feats, segment, seed, torch.device("cpu"))
    with store().writer("speech-segmenter", "segmenter", {"utterances": len(feats)}, directory=True) as out:
        torch.save(model.state_dict(), out.path / "segmenter.pt")
    return out.ref


def _segmenter(ref: ArtifactRef) -> SegmentModel:
    return SegmentModel.from_state_dict(torch.load(store().path(ref) / "segmenter.pt", weights_only=True))


@task(name="segment-audio", task_run_name="segment-{audio.meta[split]}-{audio.meta[shard]}", cache_policy=STAGE_CACHE)
def segment_audio(audio: ArtifactRef, segmenter: ArtifactRef, segment: SegmentConfig) -> ArtifactRef:
    """Segment and pool one shard; keep segment labels (for the supervised reference) and
    reference phones (for evaluation) where flite's alignment or a transcript gives them."""
    model = _segmenter(segmenter)
    manifest = _manifest(audio)
    xs, bounds, labels, refs = [], [], [], []
    for m, f in zip(manifest, _features(audio)):
        seg = segment_utterance(f, model, segment)
        xs.append(seg.features)
        bounds.append(seg.bounds)
        if m["aligned"]:
            ali = [AlignedPhone(*a) for a in m["aligned"]]
            labels.append(segment_labels(seg.bounds, encode(frame_labels(ali, f.shape[0]))))
            refs.append([a.phone for a in ali])
        else:
            labels.append(None)
            refs.append(None)
    meta = {**audio.meta, "segments": sum(x.shape[0] for x in xs)}
    with store().writer("speech-segments", f"segments-{audio.meta['split']}-{audio.meta['shard']}", meta,
                        directory=True) as out:
        torch.save({"x": xs, "bounds": bounds, "labels": labels}, out.path / "segments.pt")
        (out.path / "refs.json").write_text(json.dumps({"ids": [m["id"] for m in manifest], "phones": refs,
                                                        "texts": [m["text"] for m in manifest]}),
                                            encoding="utf-8")
    return out.ref


def load_segments(refs: list[ArtifactRef]) -> dict[str, list]:
    """Segment features, labels and references of several shards, concatenated in order."""
    return read_segments([store().path(ref) for ref in refs])


def read_segments(paths: list[Path]) -> dict[str, list]:
    """`load_segments` of `speech-segments` artifact directories given by path."""
    out: dict[str, list] = {"x": [], "labels": [], "ids": [], "phones": [], "texts": []}
    for path in paths:
        seg = torch.load(path / "segments.pt", weights_only=True)
        r = json.loads((path / "refs.json").read_text(encoding="utf-8"))
        out["x"] += seg["x"]; out["labels"] += seg["labels"]
        out["ids"] += r["ids"]; out["phones"] += r["phones"]; out["texts"] += r["texts"]
    return out


def reference_phones(seg: dict[str, list], lexicon: Lexicon | None = None) -> list[list[str]] | None:
    """Reference phones per utterance: flite's alignment, else the transcript phonemised;
    None when some utterance has neither (then PER is not computed)."""
    out = []
    for phones, text in zip(seg["phones"], seg["texts"]):
        if phones is not None:
            out.append(phones)
        elif text and lexicon is not None:
            try:
                out.append(text_to_phones(text, lexicon))
            except InputError:
                return None
        else:
            return None
    return out


# --- training -----------------------------------------------------------------------------

def _save_recogniser(kind: str, name: str, trained: TrainedGenerator, meta: dict[str, Any]) -> ArtifactRef:
    meta = {**meta, "criterion": trained.score, "step": trained.step, "hidden": trained.hidden}
    with store().writer(kind, name, meta, directory=True) as out:
        torch.save({"state": trained.generator_state, "in_dim": trained.in_dim, "n_phones": trained.n_phones,
                    "step": trained.step, "score": trained.score, "hidden": trained.hidden},
                   out.path / "generator.pt")
        (out.path / "history.json").write_text(json.dumps(trained.history, indent=1), encoding="utf-8")
    return out.ref


def load_recogniser(ref: ArtifactRef) -> TrainedGenerator:
    d = torch.load(store().path(ref) / "generator.pt", weights_only=True)
    history = json.loads((store().path(ref) / "history.json").read_text(encoding="utf-8"))
    return TrainedGenerator(d["state"], d["in_dim"], d["n_phones"], d["step"], d["score"], history, d["hidden"])


@task(name="train-gan", task_run_name="gan-seed-{seed}", cache_policy=STAGE_CACHE)
def train_gan_seed(train: list[ArtifactRef], text: ArtifactRef, monitor: list[ArtifactRef], gan: GanConfig,
                   lm_config: LmConfig, seed: int, device: DeviceRequest = "auto") -> ArtifactRef:
    """One GAN run; the checkpoint kept is the best by the unsupervised criterion. Test PER
    of each evaluated checkpoint (from `monitor`) is recorded for plots only: it steers nothing."""
    log = get_run_logger()
    start = time.perf_counter()
    seg = load_segments(train)
    lm = phone_lm(text, lm_config)
    test = load_segments(monitor) if monitor else None
    refs = reference_phones(test) if test else None
    ckpt = checkpoint_dir("speech-gan", run_key(train_gan_seed.fn, [r.sha256 for r in train], text.sha256,
                                                gan.model_dump(mode="json"), lm_config.model_dump(mode="json"),
                                                seed)) / "checkpoint.pt"
    resume = torch.load(ckpt, weights_only=True) if ckpt.is_file() else None
    if resume is not None:
        log.info(f"resuming GAN seed {seed} from step {resume['step']}")

    def save_checkpoint(state: dict) -> None:
        with atomic_path(ckpt) as tmp:
            torch.save(state, tmp)

    with device_slot(device) as dev:
        def test_per(generator: torch.nn.Module) -> dict[str, float | None]:
            if refs is None:
                return {"test_per": None}
            hyps = transcribe(generator, test["x"], dev)
            return {"test_per": phone_error_rate(refs, [decode_ids(h) for h in hyps])}

        def progress(step: int, row: dict[str, float]) -> None:
            log.info(f"GAN seed {seed} step {step}: " + ", ".join(
                f"{k} {v:.3f}" for k, v in row.items() if isinstance(v, float)))

        trained = train_gan(seg["x"], _text(text)["phones"], len(PHONES), gan, dev, seed,
                            score=lambda hyps: weighted_lm_ppl(hyps, lm), progress=progress,
                            checkpoint=save_checkpoint, resume=resume, monitor=test_per)
    shutil.rmtree(ckpt.parent, ignore_errors=True)
    return _save_recogniser("speech-gan", f"gan-seed-{seed}", trained,
                            {"seed": seed, "seconds": round(time.perf_counter() - start, 1),
                             "origin": f"gan seed {seed}"})


@task(name="self-train", task_run_name="self-train-{gan.meta[origin]}", cache_policy=STAGE_CACHE)
def self_train(gan: ArtifactRef, train: list[ArtifactRef], text: ArtifactRef, gan_config: GanConfig,
               supervised: SupervisedConfig, lm_config: LmConfig, device: DeviceRequest = "auto") -> ArtifactRef:
    """wav2vec-U's second step: retrain the wider supervised-architecture generator on the
    selected GAN's own per-segment labels, `self_train_rounds` times. Unsupervised: no
    transcript enters; the result is scored by the same criterion."""
    start = time.perf_counter()
    seg = load_segments(train)
    lm = phone_lm(text, lm_config)
    current = load_recogniser(gan)
    n_eval, gcfg = gan_config.gan_eval_utterances, gan_config.generator
    with device_slot(device) as dev:
        for rnd in range(supervised.self_train_rounds):
            labels = pseudo_labels(current.generator(gcfg, dev), seg["x"], dev)
            current = train_supervised(seg["x"], labels, len(PHONES), gcfg, supervised, dev, seed=rnd)
            hyps = transcribe(current.generator(gcfg, dev), seg["x"][:n_eval], dev)
            current.score = weighted_lm_ppl(hyps, lm)
    return _save_recogniser("speech-self-trained", "self-trained", current,
                            {"seed": gan.meta["seed"], "origin": f"self-trained on {gan.meta['origin']}",
                             "seconds": round(time.perf_counter() - start, 1)})


SUPERVISED = "supervised reference"
SUPERVISED_LINEAR = "supervised reference, GAN's generator"


@task(name="train-reference", cache_policy=STAGE_CACHE)
def train_reference(train: list[ArtifactRef], text: ArtifactRef, generator: GeneratorConfig,
                    supervised: SupervisedConfig, lm_config: LmConfig, n_eval: int,
                    device: DeviceRequest = "auto", origin: str = SUPERVISED) -> ArtifactRef | None:
    """A supervised reference: the same features and a generator with `supervised_hidden`
    hidden units (0: the GAN's own linear generator) trained on paired segment labels, named
    `origin`. None when the training audio has no alignments."""
    seg = load_segments(train)
    if any(l is None for l in seg["labels"]):
        return None
    start = time.perf_counter()
    lm = phone_lm(text, lm_config)
    with device_slot(device) as dev:
        trained = train_supervised(seg["x"], seg["labels"], len(PHONES), generator, supervised, dev, seed=0)
        hyps = transcribe(trained.generator(generator, dev), seg["x"][:n_eval], dev)
        trained.score = weighted_lm_ppl(hyps, lm)
    return _save_recogniser("speech-supervised", "supervised", trained,
                            {"origin": origin, "seconds": round(time.perf_counter() - start, 1)})


def _words(phones: list[list[str]], text: ArtifactRef, config: SpeechConfig) -> list[list[str]]:
    from components.speech.decode import PronunciationTrie, decode_words

    trie = PronunciationTrie(read_lexicon(store().path(text) / "lexicon.tsv"))
    lm = word_lm(text, config.lm)
    return [decode_words(p, trie, lm, config.decode) for p in phones]


def _score(name: str, hyps: list[list[str]], test: dict[str, list], text: ArtifactRef, config: SpeechConfig,
           decode: bool) -> dict[str, Any]:
    lexicon = read_lexicon(store().path(text) / "lexicon.tsv")
    refs = reference_phones(test, lexicon)
    row: dict[str, Any] = {"name": name, "utterances": len(hyps), "per": None, "wer": None,
                           "hyps": [" ".join(strip_silence(h)) for h in hyps]}
    if refs is not None and refs:
        row["per"] = phone_error_rate(refs, hyps)
        row["confusion"] = confusion_counts(refs, hyps, [p for p in PHONES if p != PHONES[SILENCE_ID]])
    if decode:
        words = _words([strip_silence(h) for h in hyps], text, config)
        row["words"] = [" ".join(w) for w in words]
        if all(test["texts"]):
            row["wer"] = word_error_rate([words_of(t) for t in test["texts"]], words)
    return row


@task(name="evaluate-recogniser", task_run_name="evaluate-{model.meta[origin]}", cache_policy=STAGE_CACHE)
def evaluate_recogniser(model: ArtifactRef, test: list[ArtifactRef], text: ArtifactRef, config: SpeechConfig,
                        decode: bool = True) -> dict[str, Any]:
    """PER on the test utterances and, with `decode`, WER after decoding to words. Reporting only."""
    seg = load_segments(test)
    g = load_recogniser(model).generator(config.gan.generator, torch.device("cpu"))
    hyps = [decode_ids(h) for h in transcribe(g, seg["x"], torch.device("cpu"))]
    row = _score(model.meta["origin"], hyps, seg, text, config, decode)
    row.update(criterion=model.meta.get("criterion"), seconds=model.meta.get("seconds"), step=model.meta.get("step"))
    return row


@task(name="evaluate-baseline", cache_policy=STAGE_CACHE)
def evaluate_baseline(test: list[ArtifactRef], text: ArtifactRef, config: SpeechConfig,
                      decode: bool = True) -> dict[str, Any]:
    """The trivial row: the text's most frequent phone, once per utterance."""
    seg = load_segments(test)
    out = most_frequent_phone_baseline(_text(text)["phones"], len(seg["x"]))
    row = _score("trivial baseline", [decode_ids(h) for h in out], seg, text, config, decode)
    row["criterion"] = weighted_lm_ppl(out, phone_lm(text, config.lm))
    return row


@task(name="evaluate-chance", cache_policy=STAGE_CACHE)
def evaluate_chance(test: list[ArtifactRef], text: ArtifactRef, config: SpeechConfig) -> dict[str, Any] | None:
    """Chance row: random stretches of the unpaired text as long as each reference (so PER
    shows what text-like output that ignores the audio scores). None without references."""
    seg = load_segments(test)
    refs = reference_phones(seg, read_lexicon(store().path(text) / "lexicon.tsv"))
    if refs is None:
        return None
    out = random_text_baseline(_text(text)["phones"], [len(strip_silence(r)) for r in refs])
    row = _score("random text (reference length)", [decode_ids(h) for h in out], seg, text, config, False)
    row["criterion"] = weighted_lm_ppl(out, phone_lm(text, config.lm))
    return row


@task(name="package-speech-model", cache_policy=STAGE_CACHE)
def package_model(recogniser: ArtifactRef, segmenter: ArtifactRef, text: ArtifactRef,
                  config: SpeechConfig) -> ArtifactRef:
    """The selected recogniser, its front end, phone set, lexicon and word LM as ONE artifact
    (what `transcribe` and `unpaired transcribe --model` take)."""
    trained = load_recogniser(recogniser)
    model = SpeechModel(features=config.features, segment=config.segment, segmenter=_segmenter(segmenter),
                        generator=config.gan.generator, recogniser=trained,
                        lexicon=read_lexicon(store().path(text) / "lexicon.tsv"), word_lm=word_lm(text, config.lm),
                        decode=config.decode,
                        info={"origin": recogniser.meta["origin"], "criterion": recogniser.meta["criterion"]})
    meta = {"origin": recogniser.meta["origin"], "criterion": recogniser.meta["criterion"]}
    with store().writer("speech-model", "speech-model", meta, directory=True) as out:
        model.save(out.path)
    return out.ref


# --- report -------------------------------------------------------------------------------

@task(name="plot-speech-training")
def plot_training(runs: list[ArtifactRef], selected: ArtifactRef, out: Path) -> Path:
    """Criterion (selects) and test PER (monitor only) over GAN training, one line per seed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_c, ax_p) = plt.subplots(1, 2, figsize=(11, 4))
    for run in runs:
        hist = [h for h in json.loads((store().path(run) / "history.json").read_text()) if "score" in h]
        label = run.meta["origin"] + (" (selected)" if run == selected else "")
        lw = 2.5 if run == selected else 1
        ax_c.plot([h["step"] for h in hist], [h["score"] for h in hist], label=label, lw=lw)
        pts = [(h["step"], 100 * h["test_per"]) for h in hist if h.get("test_per") is not None]
        if pts:
            ax_p.plot(*zip(*pts), label=label, lw=lw)
    ax_c.set(title="unsupervised criterion (selects)", xlabel="step", ylabel="phone-LM ppl / usage^2")
    ax_c.set_yscale("log")
    ax_p.set(title="test PER (monitor only)", xlabel="step", ylabel="PER (%)")
    ax_c.legend(fontsize=7)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


@task(name="plot-phone-confusion")
def plot_confusion(confusion: list[list[int]], title: str, out: Path) -> Path:
    """Row-normalised confusion of reference (rows) and recognised (columns) phones, with a
    'none' row/column for insertions and deletions, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [p for p in PHONES if p != PHONES[SILENCE_ID]] + ["none"]
    c = torch.tensor(confusion, dtype=torch.float)
    c = c / c.sum(1, keepdim=True).clamp_min(1)
    fig, ax = plt.subplots(figsize=(9, 8))
    ax.imshow(c.numpy(), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set(xlabel="recognised", ylabel="reference", title=title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


@task(name="publish-speech-report")
def publish_speech_report(rows: list[dict[str, Any]], examples: list[dict[str, Any]], summary: str) -> None:
    """Metrics of every row, a few transcriptions, and why the winner won, for the UI."""
    create_table_artifact(key="speech-results", table=rows, description="Speech: PER / WER on the test utterances")
    if examples:
        create_table_artifact(key="speech-examples", table=examples, description="Speech: test transcriptions")
    create_markdown_artifact(key="speech-summary", markdown=summary)
