"""The speech stage end to end on a tiny corpus: built-in flite verses, and a user directory
with bad files; the packaged model transcribes files and names the ones it cannot read."""
import math
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import yaml

from components.speech.audio import read_audio, write_wav
from components.speech.config import (DecodeConfig, DiscriminatorConfig, GanConfig, GeneratorConfig, SpeechConfig,
                                      SpeechDataConfig, SupervisedConfig)
from components.speech.synth import synthesise
from components.store import ArtifactStore
from components.speech.config import SpeechStageConfig
from components.report import RowKind
from components.speech.supervised import Reference
from flows.speech import speech, speech_section, transcribe
from tests.flows.test_cli import run_cli

pytestmark = pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed")

TINY = SpeechConfig(
    gan=GanConfig(gan_steps=12, gan_eval_every=6, gan_batch_size=4, gan_eval_utterances=6,
                  generator=GeneratorConfig(generator_hidden=8),
                  discriminator=DiscriminatorConfig(discriminator_dim=8)),
    supervised=SupervisedConfig(supervised_steps=10, supervised_hidden=8),
    decode=DecodeConfig(decode_beam=2))


def _tiny(**data) -> SpeechStageConfig:
    return SpeechStageConfig(data=SpeechDataConfig(**{"train_utterances": 6, "test_utterances": 2,
                                                      "voices": ("rms", "slt"), "text_sentences": 60, **data}),
                             speech=TINY, seeds=(0, 1), device="cpu")


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _bad_files(root: Path) -> dict[str, Path]:
    """A corrupt, an empty and a silent WAV, and a stereo 44.1 kHz speech file (usable)."""
    root.mkdir(parents=True, exist_ok=True)
    corrupt = root / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt junk that is not audio")
    empty = root / "empty.wav"
    soundfile.write(str(empty), np.zeros((0, 1), dtype=np.float32), 16000, subtype="PCM_16")
    silent = root / "silent.wav"
    write_wav(silent, torch.zeros(16000))
    synth = root / "mono.wav.tmp"
    synthesise("The Lord is my shepherd, I shall not want.", "awb", synth)
    mono = read_audio(synth).numpy()
    synth.unlink()
    import torchaudio
    wave44 = torchaudio.functional.resample(torch.from_numpy(mono), 16000, 44100).numpy()
    stereo = root / "stereo44k.wav"
    soundfile.write(str(stereo), np.stack([wave44, 0.5 * wave44], 1), 44100, subtype="PCM_16")
    return {"corrupt": corrupt, "empty": empty, "silent": silent, "stereo": stereo}


def test_builtin_corpus_end_to_end_then_cached(data_dir, tmp_path):
    config = _tiny()
    result = speech(config)
    names = {r.name for r in result.rows}
    assert {"gan seed 0", "gan seed 1"} <= names
    assert [r.kind for r in result.rows] == [RowKind.UNSUPERVISED] * 2 + [
        RowKind.SELF_TRAINED, RowKind.SUPERVISED, RowKind.SUPERVISED, RowKind.BASELINE, RowKind.CHANCE]
    assert result.reference_row(Reference.features).name == Reference.features.value
    assert result.reference_row(Reference.linear).name == Reference.linear.value
    assert result.rows_of(RowKind.SELF_TRAINED)[0].name.startswith("self-trained on gan seed")
    for row in result.rows:
        assert row.metrics["per"] is not None and 0 <= row.metrics["per"] < math.inf
    # the selected row is the lowest criterion among the GAN seeds and the self-trained model
    best_gan = min(result.rows_of(RowKind.UNSUPERVISED), key=lambda r: r.criterion)
    allowed = [best_gan] + [r for r in result.rows_of(RowKind.SELF_TRAINED)
                            if r.name == f"self-trained on {best_gan.name}"]
    selected = result.selected_row()
    assert selected in allowed and [r for r in result.rows if r.selected] == [selected]
    assert selected.criterion == min(r.criterion for r in allowed)
    # every row but chance (phones drawn at random, no words) is decoded to words
    assert all(r.metrics["wer"] is not None for r in result.rows if r.kind is not RowKind.CHANCE)
    assert result.criterion.name == "phone-LM perplexity / phone usage^2" and not result.criterion.higher_is_better
    table = result.report().table()
    assert [t["system"] for t in table] == [r.name for r in result.rows]
    assert [t["selected"] for t in table].count("yes") == 1 and "PER %" in table[0]
    section = speech_section(result)
    keys = {"per", "wer", "supervised_per", "supervised_linear_per", "baseline_per", "chance_per", "criterion",
            "seconds", "model"}
    assert keys <= set(section)
    assert section["chance_per"] is not None and section["supervised_linear_per"] is not None
    assert section["selected"] == selected.name and section["criterion"] == selected.criterion
    assert section["selection"] == "min unsupervised criterion (phone-LM perplexity / phone usage^2)"
    assert section["baseline_per"] == result.rows_of(RowKind.BASELINE)[0].metrics["per"]
    assert list(section["rows"]) == [r.name for r in result.rows]
    assert all(list(v) == ["per", "wer", "criterion", "step", "seconds", "utterances"]
               for v in section["rows"].values())
    model_dir = Path(section["model"])
    assert {p.name for p in model_dir.iterdir()} == {"config.json", "weights.pt", "lexicon.tsv", "word_lm.json"}
    for plot in result.plots.values():
        assert Path(plot).stat().st_size > 0
    assert result.corpus["train_utterances"] == 6 and result.corpus["test_utterances"] == 2
    assert result.problems == {}

    start = time.perf_counter()
    again = speech(config)
    assert again.model == result.model and again.rows == result.rows  # every task a cache hit
    assert time.perf_counter() - start < result.seconds

    files = _bad_files(tmp_path / "audio")
    out = transcribe(result.model, [files["stereo"], files["corrupt"], files["empty"], files["silent"],
                                    tmp_path / "missing.wav"])
    assert [o["file"] for o in out][0] == str(files["stereo"])
    assert out[0]["error"] is None and out[0]["phones"]
    for o, word in zip(out[1:], ("decoded", "no audio samples", "silent", "no such")):
        assert o["error"] is not None and word in o["error"] and o["file"] in o["error"]
    assert transcribe(str(model_dir), [files["stereo"]], words=False)[0]["phones"] == out[0]["phones"]


def test_user_directory_with_bad_files_and_unphonemisable_text(data_dir, tmp_path):
    audio = tmp_path / "audio"
    sentences = ["In the beginning God created the heaven and the earth.",
                 "And the earth was without form, and void.", "And God saw the light, that it was good.",
                 "And God called the light Day, and the darkness he called Night."]
    for i, s in enumerate(sentences):
        synthesise(s, ("rms", "slt")[i % 2], audio / f"utt{i}.wav")
    bad = _bad_files(audio)
    transcripts = tmp_path / "transcripts.tsv"
    transcripts.write_text("".join(f"utt{i}.wav\t{s}\n" for i, s in enumerate(sentences))
                           + "stereo44k\tThe Lord is my shepherd, I shall not want.\n")
    text = tmp_path / "text.txt"
    text.write_text("And the evening and the morning were the first day.\n1234 5678 !!!\n"
                    "And God said, Let there be light: and there was light.\n"
                    "And God made the firmament, and divided the waters.\n")
    config = _tiny(audio_dir=audio, test_audio_dir=audio, transcripts=transcripts, text_files=(text,))
    config = config.model_copy(update={"decode_words": False, "seeds": (0,)})
    result = speech(config)
    assert set(result.problems) == {"corrupt", "empty", "silent"}
    assert "cannot be decoded" in result.problems["corrupt"]
    assert result.corpus["train_utterances"] == 5  # four mono 16 kHz files and the stereo 44.1 kHz one
    assert result.corpus["text_dropped"] == 1 and result.corpus["text_sentences"] == 3
    assert not result.rows_of(RowKind.SUPERVISED)  # no alignments: no paired labels
    assert 0 <= result.selected_row().metrics["per"] < math.inf  # scored against the transcripts
    assert ArtifactStore(data_dir / "store").exists(result.model)

    # the same settings through the command line, as a user gives them
    as_file = tmp_path / "speech.yaml"
    as_file.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    cli = run_cli("speech", "--config", str(as_file), data_dir=data_dir)
    assert cli.returncode == 0, cli.stdout[-2000:] + cli.stderr[-2000:]
    assert result.selected_row().name in cli.stdout and "model:" in cli.stdout
