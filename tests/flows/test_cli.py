"""The `unpaired` command as a user runs it: user errors end in one clear line naming the input."""
import os
import subprocess
import sys

import pytest


def run_cli(*args: str, data_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "UNPAIRED_DATA": str(data_dir), "PREFECT_LOCAL_STORAGE_PATH": str(data_dir / "results")}
    env.pop("PREFECT_API_URL", None)  # the command starts its own ephemeral server, as for a user
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def _last_line(result: subprocess.CompletedProcess) -> str:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("error:")][-1]


def test_help_lists_the_commands(data_dir):
    result = run_cli("--help", data_dir=data_dir)
    assert result.returncode == 0
    for command in ("prepare-corpus", "align", "backtranslate", "speech", "translation", "retrain", "artifacts",
                    "report", "runs", "bench", "demo", "style-transfer", "restyle"):
        assert command in result.stdout


@pytest.mark.parametrize("args, expected", [
    (["--src-file", "{tmp}/nowhere.txt", "--tgt-file", "{tmp}/nowhere.txt"], ["nowhere.txt", "not found"]),
    (["--pair", "en-zz"], ["'zz'", "no built-in Bible"]),
])
def test_user_errors_are_one_clear_line(tmp_path, data_dir, args, expected):
    result = run_cli("prepare-corpus", *[a.format(tmp=tmp_path) for a in args], data_dir=data_dir)
    assert result.returncode == 2
    line = _last_line(result)
    assert all(e in line for e in expected), line
    assert not (data_dir / "store" / "objects").exists()


def test_bad_config_file_is_named(tmp_path, data_dir):
    cfg = tmp_path / "corpus.toml"
    cfg.write_text('src = { lang = "en" }\ntgt = { lang = "fr" }\nembeddings = { dim = -3 }\n')
    result = run_cli("prepare-corpus", "--config", str(cfg), data_dir=data_dir)
    assert result.returncode == 2
    assert "dim" in _last_line(result)


def test_artifacts_lists_the_store_and_report_names_a_missing_key(data_dir):
    from components.store import ArtifactStore

    with ArtifactStore(data_dir / "store").writer("vectors", "vectors-xa", {"lang": "xa"}) as out:
        out.path.write_text("1 1\na 1.0\n")
    listed = run_cli("artifacts", data_dir=data_dir)
    assert listed.returncode == 0 and "vectors-xa" in listed.stdout and out.ref.sha256[:12] in listed.stdout
    missing = run_cli("report", "alignment-xx-yy", data_dir=data_dir)
    assert missing.returncode == 2 and "alignment-xx-yy" in _last_line(missing)
    assert "no model promoted yet" in run_cli("champions", data_dir=data_dir).stdout


def test_translate_and_transcribe_name_a_missing_model(tmp_path, data_dir):
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    for args, name in ((["translate", "--model", str(tmp_path / "nomodel"), "a sentence"], "nomodel"),
                       (["transcribe", "--model", str(tmp_path / "nomodel"), str(wav)], "nomodel"),
                       (["restyle", "--model", str(tmp_path / "nomodel"), "thou art"], "nomodel"),
                       (["style-transfer", "--src-file", str(tmp_path / "nowhere.txt"), "--tgt-file",
                         str(tmp_path / "nowhere.txt")], "nowhere.txt"),
                       (["translate", "--model", "current", "--pair", "xa-xb", "a"], "translate-xa-xb")):
        result = run_cli(*args, data_dir=data_dir)
        assert result.returncode == 2, result.stdout + result.stderr
        assert name in _last_line(result)


def test_align_runs_alone_on_a_users_vectors_and_backtranslate_refuses_an_unknown_map(tmp_path, data_dir):
    from components.dictionary import write_pairs
    from components.embeddings import write_vec
    from tests.components.align.conftest import planted_pair

    planted = planted_pair(n=300, dim=16, noise=0.2, seed=5, n_identical=20)
    write_vec(planted.src, tmp_path / "xa.vec")
    write_vec(planted.tgt, tmp_path / "xb.vec")
    write_pairs(planted.pairs, tmp_path / "xa-xb.tsv")
    cfg = tmp_path / "align.toml"
    cfg.write_text('seeds = [0]\nmethods = ["vecmap"]\n[align.vecmap]\nstochastic_interval = 10\n'
                   '[align.refine]\nn_refinement = 1\n')
    result = run_cli("align", "--pair", "xa-xb", "--config", str(cfg), "--src-vectors", str(tmp_path / "xa.vec"),
                     "--tgt-vectors", str(tmp_path / "xb.vec"), "--dictionary", str(tmp_path / "xa-xb.tsv"),
                     data_dir=data_dir)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "vecmap seed 0" in result.stdout and "procrustes_seed" in result.stdout
    exported = [line for line in result.stdout.splitlines() if line.startswith("aligned vectors:")]
    assert exported and (data_dir / "store").is_dir()
    partial = run_cli("align", "--src-vectors", str(tmp_path / "xa.vec"), data_dir=data_dir)
    assert partial.returncode == 2 and "go together" in _last_line(partial)
    (tmp_path / "xc.vec").write_text("2 3\na 1 0 0\nb 0 1 0\n")
    wrong = run_cli("align", "--pair", "xa-xc", "--src-vectors", str(tmp_path / "xa.vec"), "--tgt-vectors",
                    str(tmp_path / "xc.vec"), "--dictionary", str(tmp_path / "xa-xb.tsv"), data_dir=data_dir)
    assert wrong.returncode == 2 and "xc.vec: 3-dimensional vectors" in _last_line(wrong)
    assert "Traceback" not in wrong.stdout + wrong.stderr
    unknown = run_cli("backtranslate", "--alignment", "0123456789ab", data_dir=data_dir)
    assert unknown.returncode == 2 and "0123456789ab" in _last_line(unknown)


def test_features_checkpoint_flag_reads_a_pretrained_layer(tmp_path):
    from components.speech.config import CheckpointFormat, FeatureKind, SpeechStageConfig
    from flows.cli import _with_checkpoint

    base = SpeechStageConfig()
    cfg = _with_checkpoint(base, tmp_path / "w.pt", CheckpointFormat.fairseq, 5)
    f = cfg.speech.features
    assert (f.features_kind, f.features_checkpoint, f.features_format, f.features_layer) == (
        FeatureKind.ssl, tmp_path / "w.pt", CheckpointFormat.fairseq, 5)
    assert cfg.speech.segment.segment_change_dims == 0  # self-supervised dims have no order
    assert cfg.data == base.data and cfg.speech.gan == base.speech.gan
    assert _with_checkpoint(base, tmp_path / "w.pt", None, None).speech.features.features_layer is None
