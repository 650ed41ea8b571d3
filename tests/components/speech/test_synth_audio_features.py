import numpy as np
import pytest
import soundfile
import torch

from components.errors import InputError
from components.speech.audio import read_audio, read_audio_batch
from components.speech.config import FeatureKind, FeaturesConfig
from components.speech.features import extract_features, feature_dim
from components.speech.phones import PHONES, SILENCE
from components.speech.synth import frame_labels, parse_psdur, synthesise


def test_parse_psdur():
    ali = parse_psdur("pau:0.174 ih:0.294 n:0.347 pau:0.5\n")
    assert [a.phone for a in ali] == [SILENCE, "ih", "n", SILENCE]
    assert ali[1].start == pytest.approx(0.174) and ali[1].end == pytest.approx(0.294)
    with pytest.raises(InputError):
        parse_psdur("ih:0.3 n:0.2")


def test_flite_corpus_is_16k_mono_with_alignment(flite_corpus):
    wav, ali, _ = flite_corpus[0]
    info = soundfile.info(str(wav))
    assert info.samplerate == 16000 and info.channels == 1
    assert ali[0].phone == SILENCE and ali[-1].phone == SILENCE
    assert all(a.phone in PHONES for a in ali)
    assert ali[-1].end == pytest.approx(info.duration, abs=0.1)


def test_unknown_voice_is_refused(tmp_path):
    with pytest.raises(InputError, match="kal8"):
        synthesise("hello", "kal8", tmp_path / "x.wav")


def test_frame_labels_follow_alignment(flite_corpus):
    _, ali, _ = flite_corpus[0]
    labels = frame_labels(ali, 50)
    assert len(labels) == 50 and labels[0] == SILENCE


def test_stereo_44k_is_resampled_to_16k_mono(tmp_path):
    sr = 44_100
    t = np.arange(sr) / sr
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    path = tmp_path / "stereo.wav"
    soundfile.write(str(path), np.stack([left, left], 1), sr)
    wave = read_audio(path)
    assert wave.dim() == 1 and wave.dtype == torch.float32
    assert abs(wave.shape[0] - 16_000) <= 1
    spectrum = torch.fft.rfft(wave).abs()
    assert int(spectrum.argmax()) == pytest.approx(440, abs=2)  # 1 s of signal: bin = Hz


@pytest.mark.parametrize("content,problem", [(b"RIFF\x00\x00garbage", "cannot be decoded"),
                                             (None, "no audio samples"), ("silent", "silent")])
def test_bad_files_raise_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "bad.wav"
    if content is None:
        soundfile.write(str(path), np.zeros((0,), dtype=np.float32), 16000)
    elif content == "silent":
        soundfile.write(str(path), np.zeros(16000, dtype=np.float32), 16000)
    else:
        path.write_bytes(content)
    with pytest.raises(InputError, match=problem) as err:
        read_audio(path)
    assert "bad.wav" in str(err.value)


@pytest.mark.parametrize("kind", [FeatureKind.mfcc, FeatureKind.logmel])  # ssl: tests/components/speech/test_ssl.py
def test_features_shape_and_normalisation(flite_corpus, kind):
    cfg = FeaturesConfig(features_kind=kind)
    wave = read_audio(flite_corpus[1][0])
    feats = extract_features(wave, cfg)
    assert feats.shape == (wave.shape[0] // 160 + 1, feature_dim(cfg))
    assert torch.allclose(feats.mean(0), torch.zeros(feats.shape[1]), atol=1e-4)
    assert torch.allclose(feats.std(0, unbiased=False), torch.ones(feats.shape[1]), atol=1e-3)


def test_empty_wave_is_refused():
    with pytest.raises(InputError, match="clip"):
        extract_features(torch.zeros(0), FeaturesConfig(), source="clip")


@pytest.mark.parametrize("samples", [8, 20, 399])
def test_audio_shorter_than_one_window_is_refused_naming_it(tmp_path, samples):
    wav = tmp_path / "short.wav"
    soundfile.write(str(wav), 0.5 * np.sin(np.arange(samples) / 3.0).astype(np.float32), 16000)
    with pytest.raises(InputError, match=r"short.wav: too short: .*25 ms analysis window"):
        extract_features(read_audio(wav), FeaturesConfig(), source=str(wav))
    assert extract_features(torch.randn(400), FeaturesConfig()).shape == (3, feature_dim(FeaturesConfig()))


def test_batch_reading_keeps_good_files_and_names_bad_ones(tmp_path, flite_corpus):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"not audio")
    good = str(flite_corpus[0][0])
    waves, problems = read_audio_batch([good, bad])
    assert list(waves) == [good] and list(problems) == [str(bad)]
    assert "broken.wav" in problems[str(bad)]
