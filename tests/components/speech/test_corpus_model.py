"""Speech corpus selection, spectral-change segmentation, serialisation of the packaged model,
and transcription of good and bad files."""
import json

import pytest
import torch

from components.corpus import SplitConfig
from components.errors import InputError
from components.sources import default_bible_db
from components.speech.audio import read_audio, write_wav
from components.speech.config import (DecodeConfig, FeaturesConfig, GeneratorConfig, SegmentConfig,
                                      SegmentMethod)
from components.speech.corpus import (bible_speech_split, directory_utterances, read_transcripts, shards)
from components.speech.features import extract_features
from components.speech.gan import Generator, TrainedGenerator
from components.speech.lm import NgramLM
from components.speech.metrics import align_sequences, confusion_counts
from components.stats import spearman
from components.speech.model import SpeechModel, transcribe_files
from components.speech.phones import PHONES, Lexicon, read_lexicon, write_lexicon
from components.speech.segment import change_point_bounds, fit_segmenter, segment_utterance


def test_change_points_find_planted_steps():
    frames = torch.cat([torch.full((10, 2), v) for v in (0.0, 5.0, 0.0, 5.0)])
    frames += 0.01 * torch.randn(frames.shape, generator=torch.Generator().manual_seed(0))
    bounds = change_point_bounds(frames, window=3, min_gap=3, threshold=1.0)
    assert bounds.tolist() == [[0, 10], [10, 20], [20, 30], [30, 40]]
    # a flat utterance is one segment; a higher threshold or wider gap never adds boundaries
    assert change_point_bounds(torch.zeros(7, 2), 3, 3, 0.5).tolist() == [[0, 7]]
    assert change_point_bounds(frames, 3, 15, 1.0).shape[0] <= 4
    with pytest.raises(InputError):
        change_point_bounds(torch.zeros(0, 2), 3, 3, 1.0)


def test_both_segment_methods_cover_every_frame(flite_corpus):
    feats = [extract_features(read_audio(w), FeaturesConfig()) for w, _, _ in flite_corpus]
    n_phones = len(flite_corpus[0][1])
    for method in SegmentMethod:
        cfg = SegmentConfig(segment_method=method, segment_clusters=8, segment_kmeans_iters=3, segment_pca_dim=8)
        model = fit_segmenter(feats, cfg, seed=0, device=torch.device("cpu"))
        seg = segment_utterance(feats[0], model, cfg)
        b = seg.bounds
        assert b[0, 0] == 0 and b[-1, 1] == feats[0].shape[0] and (b[1:, 0] == b[:-1, 1]).all()
        assert n_phones / 2 < b.shape[0] < 10 * n_phones
    # spectral change cuts fewer, phone-sized segments than k-means runs
    counts = {}
    for method in SegmentMethod:
        cfg = SegmentConfig(segment_method=method, segment_clusters=8, segment_kmeans_iters=3, segment_pca_dim=8)
        model = fit_segmenter(feats, cfg, seed=0, device=torch.device("cpu"))
        counts[method] = segment_utterance(feats[0], model, cfg).bounds.shape[0]
    assert counts[SegmentMethod.spectral_change] < 2.5 * n_phones


def test_bible_split_keeps_audio_text_and_test_apart():
    split = SplitConfig()
    train, test, text = bible_speech_split(default_bible_db(), split, 20, 5, ("rms", "slt"), 6, 30, 500, seed=0)
    assert len(train) == 20 and len(test) == 5 and len(text) == 500
    assert [u.voice for u in train[:3]] == ["rms", "slt", "rms"]
    assert all(u.path is None and 6 <= len(u.text.split()) for u in train)
    assert all(u.id.split(".")[0] in {"40", "41", "42", "43"} for u in test)
    assert not {u.text for u in train} & set(text) and not {u.text for u in test} & set(text)
    again = bible_speech_split(default_bible_db(), split, 20, 5, ("rms", "slt"), 6, 30, 500, seed=0)
    assert again[0] == train


def test_user_files_transcripts_and_shards(tmp_path):
    (tmp_path / "a").mkdir()
    write_wav(tmp_path / "a" / "x.wav", 0.1 * torch.randn(1600))
    write_wav(tmp_path / "y.WAV", 0.1 * torch.randn(1600))
    (tmp_path / "notes.txt").write_text("not audio")
    tsv = tmp_path / "t.tsv"
    tsv.write_text("x.wav\thello world\n")
    utts = directory_utterances(tmp_path, read_transcripts(tsv))
    assert [u.id for u in utts] == ["a/x", "y"] and utts[0].text == "hello world" and utts[1].text == ""
    with pytest.raises(InputError, match="not found"):
        directory_utterances(tmp_path / "a" / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no"):
        directory_utterances(tmp_path / "empty")
    tsv.write_text("no tab here\n")
    with pytest.raises(InputError, match="TAB"):
        read_transcripts(tsv)
    assert shards(list(range(5)), 2) == [[0, 1, 2], [3, 4]]
    assert shards([1], 4) == [[1]] and shards([], 3) == []


def test_alignment_confusion_and_rank_correlation():
    pairs = align_sequences(["a", "b", "c"], ["a", "x", "c", "d"])
    assert pairs == [("a", "a"), ("b", "x"), ("c", "c"), (None, "d")]
    c = confusion_counts([["sil", "a", "b"]], [["a"]], ["a", "b"])
    assert c == [[1, 0, 0], [0, 0, 1], [0, 0, 0]]
    assert spearman([1, 2, 3], [3, 2, 1]) == -1.0 and spearman([1, 2], [1, 2]) is None


def test_lm_and_lexicon_round_trip(tmp_path):
    lm = NgramLM.fit([["the", "lord"], ["the", "day"]], order=3)
    back = NgramLM.from_json(json.loads(json.dumps(lm.to_json())))
    assert back.prob("lord", ["the"]) == pytest.approx(lm.prob("lord", ["the"]))
    lex = Lexicon({"the": [("dh", "ah"), ("dh", "iy")], "lord": [("l", "ao", "r", "d")]}, use_t2p=False)
    write_lexicon(lex, tmp_path / "lex.tsv")
    assert read_lexicon(tmp_path / "lex.tsv").entries == lex.entries


def test_packaged_model_round_trip_and_bad_files(flite_corpus, tmp_path):
    feats_cfg, seg_cfg = FeaturesConfig(), SegmentConfig(segment_pca_dim=8)
    gen_cfg = GeneratorConfig(generator_hidden=8)
    feats = [extract_features(read_audio(w), feats_cfg) for w, _, _ in flite_corpus]
    segmenter = fit_segmenter(feats, seg_cfg, seed=0, device=torch.device("cpu"))
    torch.manual_seed(0)
    g = Generator(8, len(PHONES), gen_cfg)
    trained = TrainedGenerator({k: v.clone() for k, v in g.state_dict().items()}, 8, len(PHONES), 1, 3.0)
    lexicon = Lexicon({"god": [("g", "aa", "d")], "light": [("l", "ay", "t")]}, use_t2p=False)
    model = SpeechModel(feats_cfg, seg_cfg, segmenter, gen_cfg, trained, lexicon,
                        NgramLM.fit([["god"], ["light"]], order=2), DecodeConfig(decode_beam=2), {"origin": "test"})
    model.save(tmp_path / "model")
    loaded = SpeechModel.load(tmp_path / "model")
    wav = flite_corpus[1][0]
    silent = tmp_path / "silent.wav"
    write_wav(silent, torch.zeros(8000))
    a, b, c = transcribe_files(loaded, [wav, silent, tmp_path / "nothing.flac"], torch.device("cpu"))
    assert a.error is None and a.phones and all(p in PHONES for p in a.phones)
    assert set(a.words) <= {"god", "light"}
    assert b.error and "silent" in b.error and str(silent) in b.error and c.error and "no such" in c.error
    direct = transcribe_files(model, [wav], torch.device("cpu"))[0]
    assert direct.phones == a.phones
    with pytest.raises(InputError, match="not a speech model"):
        SpeechModel.load(tmp_path)
