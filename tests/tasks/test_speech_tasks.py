"""The speech tasks one by one on a tiny corpus built here (four flite verses, a few lines of
text): each stores what the next one reads, with the real algorithms."""
import math
import shutil

import pytest
import torch

from components.speech.catalog.audio import AudioShard
from components.speech.catalog.recogniser import Recogniser
from components.speech.catalog.segments import Segments
from components.speech.catalog.text import PhonemisedText
from components.speech.config import (CheckpointFormat, DecodeConfig, DiscriminatorConfig, FeatureKind, GanConfig,
                                      GeneratorConfig, SegmentConfig, SpeechConfig, SpeechDataConfig, SupervisedConfig)
from components.speech.corpus import Utterance
from components.speech.model import SpeechModel, transcribe_files
from components.speech.phones import words_of
from components.speech.supervised import Reference
from components.speech.synth import synthesise
from components.store import hash_path
from tasks.speech.data import import_encoder, prepare_audio
from tasks.speech.evaluate import evaluate_baseline, evaluate_chance, evaluate_recogniser
from tasks.speech.package import package_model
from tasks.speech.segment import fit_segmentation, segment_audio
from tasks.speech.text import prepare_text
from tasks.speech.train import self_train, train_gan_seed, train_reference
from tasks.store import store
from tests.components.speech.test_ssl import save_fairseq, tiny_model

pytestmark = [pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed"),
              # tasks called outside a flow log locally only; that is what these tests do
              pytest.mark.filterwarnings("ignore:Logger 'prefect.task_runs' attempted to send logs")]

TRAIN = [("In the beginning God created the heaven and the earth.", "rms"),
         ("And God said, Let there be light: and there was light.", "slt"),
         ("And God saw the light, that it was good.", "rms")]
TEST = [("And the evening and the morning were the first day.", "slt")]
TEXT = ["And God called the light Day, and the darkness he called Night.", "1234 !!!",
        "And God made the firmament, and divided the waters.", "And God said, Let the earth bring forth grass."]
CONFIG = SpeechConfig(
    segment=SegmentConfig(segment_pca_dim=16),
    gan=GanConfig(gan_steps=6, gan_eval_every=3, gan_batch_size=2, gan_eval_utterances=3,
                  generator=GeneratorConfig(generator_hidden=8), discriminator=DiscriminatorConfig(discriminator_dim=8)),
    supervised=SupervisedConfig(supervised_steps=5, supervised_hidden=8),
    decode=DecodeConfig(decode_beam=2))


@pytest.fixture(scope="module")
def stage(prefect_server, tmp_path_factory):
    """Audio, text and segments of the tiny corpus, in a store of this module's own."""
    root = tmp_path_factory.mktemp("speech-tasks")
    patch = pytest.MonkeyPatch()
    patch.setenv("UNPAIRED_DATA", str(root / "data"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    (root / "text.txt").write_text("\n".join(TEXT) + "\n", encoding="utf-8")
    bad = root / "bad.wav"
    bad.write_bytes(b"RIFF but not audio")
    train_utts = [Utterance(f"train-{i}", t, v) for i, (t, v) in enumerate(TRAIN)]
    audio = prepare_audio(train_utts + [Utterance("bad", path=str(bad))], CONFIG.features, "train", 0)
    test_audio = prepare_audio([Utterance(f"test-{i}", t, v) for i, (t, v) in enumerate(TEST)], CONFIG.features,
                               "test", 0)
    text = prepare_text(SpeechDataConfig(text_files=(root / "text.txt",)))
    segmenter = fit_segmentation([audio], CONFIG.segment)
    out = {"root": root, "audio": audio, "test_audio": test_audio, "text": text, "segmenter": segmenter,
           "train": [segment_audio(audio, segmenter, CONFIG.segment)],
           "test": [segment_audio(test_audio, segmenter, CONFIG.segment)]}
    yield out
    torch.set_num_threads(threads)
    patch.undo()


@pytest.fixture(scope="module")
def gan(stage):
    return train_gan_seed(stage["train"], stage["text"], stage["test"], CONFIG.gan, CONFIG.lm, 0, "cpu")


def test_prepare_audio_names_unusable_files_and_keeps_alignments(stage):
    audio = stage["audio"]
    assert audio.meta["utterances"] == 3 and list(audio.meta["problems"]) == ["bad"] and audio.meta["aligned"]
    shard = AudioShard.load(store().path(audio))
    assert shard.ids == ["train-0", "train-1", "train-2"]
    assert audio.meta["frames"] == sum(f.shape[0] for f in shard.feats)
    assert all(a is not None and a[0].phone == "sil" for a in shard.alignments())


def test_prepare_text_drops_unphonemisable_sentences(stage):
    text = stage["text"]
    assert (text.meta["sentences"], text.meta["dropped"]) == (3, 1)
    phonemised = PhonemisedText.load(store().path(text))
    assert phonemised.words[0] == words_of(TEXT[0]) and "1234" in phonemised.dropped[0]
    assert {w for s in phonemised.words for w in s} == set(phonemised.lexicon.entries)
    assert text.meta["phones"] == sum(map(len, phonemised.phones))


def test_segments_carry_labels_and_reference_phones(stage):
    seg = Segments.read([store().path(r) for r in stage["train"]])
    shard = AudioShard.load(store().path(stage["audio"]))
    assert seg.ids == shard.ids and seg.texts == [t for t, _ in TRAIN]
    assert stage["train"][0].meta["segments"] == sum(x.shape[0] for x in seg.x)
    for x, labels, phones, ali in zip(seg.x, seg.labels, seg.phones, shard.alignments()):
        assert x.shape == (len(labels), CONFIG.segment.segment_pca_dim)
        assert phones == [a.phone for a in ali]


def test_gan_seed_keeps_its_best_checkpoint_and_cleans_up(stage, gan):
    assert gan.meta["origin"] == "gan seed 0" and math.isfinite(gan.meta["criterion"])
    history = Recogniser.history(store().path(gan))
    scored = [h for h in history if "score" in h]
    assert min(h["score"] for h in scored) == gan.meta["criterion"]
    assert all(h["test_per"] is not None for h in scored)  # monitored, never selecting
    assert not list((store().root / "checkpoints").glob("speech-gan-*"))
    again = train_gan_seed(stage["train"], stage["text"], stage["test"], CONFIG.gan, CONFIG.lm, 0, "cpu")
    assert again == gan  # a cache hit


def test_self_training_and_references(stage, gan):
    selftrained = self_train(gan, stage["train"], stage["text"], CONFIG.gan, CONFIG.supervised, CONFIG.lm, "cpu")
    assert selftrained.meta["origin"] == "self-trained on gan seed 0" and selftrained.meta["seed"] == 0
    assert math.isfinite(selftrained.meta["criterion"])
    linear = CONFIG.supervised.model_copy(update={"supervised_hidden": 0})
    refs = {which: train_reference(stage["train"], stage["text"], CONFIG.gan.generator, sup, CONFIG.lm, 3, "cpu",
                                   which)
            for which, sup in ((Reference.features, CONFIG.supervised), (Reference.linear, linear))}
    for which, ref in refs.items():
        assert ref.meta["origin"] == which.value and ref.meta["reference"] == which.name
    assert refs[Reference.features].meta["hidden"] == 8 and refs[Reference.linear].meta["hidden"] == 0


def test_no_reference_without_alignments(stage):
    wav = stage["root"] / "user.wav"
    synthesise(TRAIN[0][0], "awb", wav)
    user = prepare_audio([Utterance("user", TRAIN[0][0], path=str(wav))], CONFIG.features, "user", 0)
    assert not user.meta["aligned"]
    seg = segment_audio(user, stage["segmenter"], CONFIG.segment)
    assert Segments.load(store().path(seg)).labels == [None]
    assert train_reference([seg], stage["text"], CONFIG.gan.generator, CONFIG.supervised, CONFIG.lm, 3,
                           "cpu") is None


def test_evaluations_score_the_test_utterances(stage, gan):
    ev = evaluate_recogniser(gan, stage["test"], stage["text"], CONFIG, decode=True)
    assert ev.utterances == 1 and 0 <= ev.per < math.inf and ev.wer is not None and len(ev.words) == 1
    assert ev.confusion and ev.criterion is None
    quiet = evaluate_recogniser(gan, stage["test"], stage["text"], CONFIG, decode=False)
    assert quiet.per == ev.per and quiet.words is None and quiet.wer is None
    base = evaluate_baseline(stage["test"], stage["text"], CONFIG, decode=False)
    assert len(base.hyps[0].split()) == 1 and base.per > 0.9 and base.criterion > 0
    chance = evaluate_chance(stage["test"], stage["text"], CONFIG)
    assert chance is not None and 0 < chance.per < math.inf and chance.words is None


def test_packaged_model_transcribes_like_the_recogniser(stage, gan):
    model = package_model(gan, stage["segmenter"], stage["text"], CONFIG)
    path = store().path(model)
    assert {p.name for p in path.iterdir()} == {"config.json", "weights.pt", "lexicon.tsv", "word_lm.json"}
    assert model.meta == {"origin": "gan seed 0", "criterion": gan.meta["criterion"]}
    wav = stage["root"] / "test.wav"
    synthesise(TEST[0][0], TEST[0][1], wav)
    out = transcribe_files(SpeechModel.load(path), [wav], torch.device("cpu"), words=False)[0]
    ev = evaluate_recogniser(gan, stage["test"], stage["text"], CONFIG, decode=False)
    assert out.error is None and " ".join(out.phones) == ev.hyps[0]


def test_ssl_front_end_through_the_tasks(stage, tmp_path):
    """A tiny random wav2vec 2.0 (a fairseq file) imported into the store by content, then audio
    at 20 ms frames, segments, one GAN seed and a packaged model that links the stored encoder."""
    checkpoint = save_fairseq(tiny_model("wav2vec2"), "wav2vec2", tmp_path / "w.pt")
    cfg = SpeechConfig.model_validate({
        **CONFIG.model_dump(), "segment": {**CONFIG.segment.model_dump(), "segment_change_dims": 0,
                                           "segment_pca_dim": 8},
        "features": {"features_kind": FeatureKind.ssl, "features_checkpoint": checkpoint,
                     "features_format": CheckpointFormat.fairseq}})
    encoder = import_encoder(cfg.features, hash_path(checkpoint))
    assert {k: encoder.meta[k] for k in ("layers", "layer", "dim", "stride")} == {
        "layers": 2, "layer": 2, "dim": 32, "stride": 320}
    utts = [Utterance(f"ssl-{i}", t, v) for i, (t, v) in enumerate(TRAIN)]
    audio = prepare_audio(utts, cfg.features, "ssl", 0, encoder, "cpu")
    shard = AudioShard.load(store().path(audio))
    assert shard.frame_s == 0.02 and all(f.shape[1] == 32 for f in shard.feats)
    segmenter = fit_segmentation([audio], cfg.segment)
    train = [segment_audio(audio, segmenter, cfg.segment)]
    assert all(lab is not None for lab in Segments.load(store().path(train[0])).labels)
    gan = train_gan_seed(train, stage["text"], [], cfg.gan, cfg.lm, 0, "cpu")
    model = package_model(gan, segmenter, stage["text"], cfg, encoder)
    linked, stored = store().path(model) / "encoder.pt", store().path(encoder) / "encoder.pt"
    assert linked.stat().st_ino == stored.stat().st_ino  # one copy on disk
    wav = stage["root"] / "ssl.wav"
    synthesise(TEST[0][0], TEST[0][1], wav)
    checkpoint.unlink()  # the model needs its own copy only
    out = transcribe_files(SpeechModel.load(store().path(model)), [wav], torch.device("cpu"), words=False)[0]
    assert out.error is None and out.phones
    save_fairseq(tiny_model("wav2vec2", seed=1), "wav2vec2", checkpoint)  # same path, new weights
    other = import_encoder(cfg.features, hash_path(checkpoint))
    assert other.sha256 != encoder.sha256
    assert prepare_audio(utts, cfg.features, "ssl", 0, other, "cpu").sha256 != audio.sha256
