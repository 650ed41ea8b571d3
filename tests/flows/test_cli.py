"""The `unpaired` command as a user runs it (its answers to bad input: tests/flows/test_bad_inputs.py)."""
import os
import subprocess
import sys


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


def test_artifacts_lists_the_store_and_report_names_a_missing_key(data_dir):
    from components.store import ArtifactStore

    with ArtifactStore(data_dir / "store").writer("vectors", "vectors-xa", {"lang": "xa"}) as out:
        out.path.write_text("1 1\na 1.0\n")
    listed = run_cli("artifacts", data_dir=data_dir)
    assert listed.returncode == 0 and "vectors-xa" in listed.stdout and out.ref.sha256[:12] in listed.stdout
    missing = run_cli("report", "alignment-xx-yy", data_dir=data_dir)
    assert missing.returncode == 2 and "alignment-xx-yy" in _last_line(missing)
    assert "no model promoted yet" in run_cli("champions", data_dir=data_dir).stdout


def test_align_runs_alone_on_a_users_vectors(tmp_path, data_dir):
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
