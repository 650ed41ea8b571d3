"""Bad input is refused before any flow or Prefect server starts: one `error:` line, exit code 2."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.components.test_preflight import corpus_text
from tests.flows.test_cli import run_cli

BAD_SOURCES = {
    "empty": b"",
    "not-utf8": "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e du jour\n".encode("latin-1"),
    "binary": b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00\n",
    "one-line": b"the same line again\n" * 200,
}


def _good_files(tmp_path: Path) -> dict[str, Path]:
    files = {"src": tmp_path / "good.en", "tgt": tmp_path / "good.fr", "dict": tmp_path / "dict.tsv"}
    files["src"].write_text(corpus_text("en"), encoding="utf-8")
    files["tgt"].write_text(corpus_text("fr"), encoding="utf-8")
    files["dict"].write_text("alpha\tarbre\nbravo\tbateau\n", encoding="utf-8")
    return files


def _assert_refused(result: subprocess.CompletedProcess, seconds: float, data_dir: Path, *named: str) -> None:
    output = result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2, output
    assert len(errors) == 1 and result.stderr.strip() == errors[0], output
    assert all(n in errors[0] for n in named), f"{errors[0]} (refused in {seconds:.1f} s)"
    assert "Traceback" not in output
    assert not (data_dir / "store" / "objects").exists()
    print(f"refused in {seconds:.2f} s: {errors[0]}")


def _timed(*args: str, data_dir: Path) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    result = run_cli(*args, data_dir=data_dir)
    return result, time.perf_counter() - start


@pytest.mark.parametrize("kind", list(BAD_SOURCES) + ["missing"])
def test_prepare_corpus_refuses_a_bad_source_file(tmp_path, data_dir, kind):
    good = _good_files(tmp_path)
    bad = tmp_path / f"{kind}.en"
    if kind != "missing":
        bad.write_bytes(BAD_SOURCES[kind])
    result, seconds = _timed("prepare-corpus", "--pair", "en-fr", "--src-file", str(bad), "--tgt-file",
                             str(good["tgt"]), "--dictionary", str(good["dict"]), data_dir=data_dir)
    _assert_refused(result, seconds, data_dir, bad.name)


@pytest.mark.parametrize("part", ["test", "dictionary"])
def test_prepare_corpus_refuses_bad_test_and_dictionary_files(tmp_path, data_dir, part):
    good = _good_files(tmp_path)
    bad = tmp_path / "binary.bin"
    bad.write_bytes(BAD_SOURCES["binary"])
    extra = (["--test-src", str(good["src"]), "--test-tgt", str(bad), "--dictionary", str(good["dict"])]
             if part == "test" else ["--dictionary", str(bad)])
    result, seconds = _timed("prepare-corpus", "--src-file", str(good["src"]), "--tgt-file", str(good["tgt"]),
                             *extra, data_dir=data_dir)
    _assert_refused(result, seconds, data_dir, "binary.bin", "binary")


def test_prepare_corpus_refuses_too_few_words_naming_the_counts(tmp_path, data_dir):
    good = _good_files(tmp_path)
    small = tmp_path / "small.fr"
    small.write_text("".join(f"mot{i} mot{i} mot{i} autre{i}\n" for i in range(5)), encoding="utf-8")
    result, seconds = _timed("prepare-corpus", "--src-file", str(good["src"]), "--tgt-file", str(small),
                             "--dictionary", str(good["dict"]), data_dir=data_dir)
    _assert_refused(result, seconds, data_dir, "small.fr", "distinct words", "min_count=3")


def test_unknown_language_and_translation_are_refused(tmp_path, data_dir):
    result, seconds = _timed("prepare-corpus", "--pair", "en-zz", data_dir=data_dir)
    _assert_refused(result, seconds, data_dir, "'zz'")
    cfg = tmp_path / "corpus.toml"
    cfg.write_text('src = { lang = "en", translations = ["segond"] }\ntgt = { lang = "fr" }\n')
    result, seconds = _timed("prepare-corpus", "--config", str(cfg), data_dir=data_dir)
    _assert_refused(result, seconds, data_dir, "'segond'", "not en")


def test_translation_refuses_a_bad_file_of_its_corpus_config(tmp_path, data_dir):
    good = _good_files(tmp_path)
    bad = tmp_path / "binary.en"
    bad.write_bytes(BAD_SOURCES["binary"])
    cfg = tmp_path / "corpus.toml"
    cfg.write_text(f'src = {{ lang = "en", files = ["{bad}"] }}\ntgt = {{ lang = "fr", files = ["{good["tgt"]}"] }}\n'
                   f'dictionary = {{ files = ["{good["dict"]}"] }}\n')
    result, seconds = _timed("translation", "--corpus-config", str(cfg), "--no-train-model", data_dir=data_dir)
    _assert_refused(result, seconds, data_dir, "binary.en", "binary")


@pytest.mark.parametrize("data", [BAD_SOURCES["binary"], BAD_SOURCES["not-utf8"]], ids=["binary", "not-utf8"])
def test_translate_refuses_bad_stdin_before_loading_the_model(tmp_path, data_dir, data):
    # the model does not exist: the stdin check must come first
    env = {**os.environ, "UNPAIRED_DATA": str(data_dir), "PREFECT_LOCAL_STORAGE_PATH": str(data_dir / "results")}
    env.pop("PREFECT_API_URL", None)
    start = time.perf_counter()
    raw = subprocess.run([sys.executable, "-m", "flows.cli", "translate", "--model", str(tmp_path / "nomodel")],
                         input=data, capture_output=True, env=env, timeout=600)
    result = subprocess.CompletedProcess(raw.args, raw.returncode, raw.stdout.decode(errors="replace"),
                                         raw.stderr.decode(errors="replace"))
    _assert_refused(result, time.perf_counter() - start, data_dir, "stdin")
