"""A real deployment path: PostgreSQL from Debian's package on loopback, a Prefect server on
it, a process worker, a deployment from a prefect.yaml, a run triggered with the CLI.

Skipped, with the reason, when PostgreSQL's server binaries are not installed (the Makefile
installs the `postgresql` package when it runs as root).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))


def _pg_bindir() -> Path | None:
    candidates = [shutil.which("initdb")] + sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c).resolve().parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_db_user() -> list[str]:
    """PostgreSQL refuses to run as root: run its server as the `postgres` account then."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' account to run the database server")
    return ["runuser", "-u", "postgres", "--"]


def _wait_http(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} not up after {timeout} s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group; SIGKILL it if it has not exited after 30 s (a worker can take
    longer to shut down on a loaded machine, which is not what these tests check)."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL cluster on 127.0.0.1; yields its SQLAlchemy URL for Prefect."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package 'postgresql'; `make test` as root "
                    "installs it)")
    prefix = _as_db_user()
    root = Path(tempfile.mkdtemp(prefix="unpaired-pg-"))
    os.chmod(root, 0o755)
    if prefix:
        shutil.chown(root, "postgres", "postgres")
    pgdata, port = root / "data", _free_port()
    subprocess.run(prefix + [str(bindir / "initdb"), "-D", str(pgdata), "-U", "unpaired", "-A", "trust",
                             "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", str(root / "pg.log"), "-w",
                             "-o", f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "unpaired", "prefect"],
                       check=True, capture_output=True)
        yield f"postgresql+asyncpg://unpaired@127.0.0.1:{port}/prefect", [
            str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "unpaired", "-d", "prefect", "-tA", "-c"]
    finally:
        subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def server(postgres, tmp_path_factory):
    """A Prefect server on the PostgreSQL database; yields the environment a client needs."""
    url, _ = postgres
    home = tmp_path_factory.mktemp("server")
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_DATABASE_CONNECTION_URL": url, "PREFECT_SERVER_API_HOST": "127.0.0.1",
           "PREFECT_SERVER_API_PORT": str(port), "PREFECT_UI_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = home / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/health", 240, proc, log)
        client_env = {k: v for k, v in env.items() if k != "PREFECT_API_DATABASE_CONNECTION_URL"}
        client_env["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
        yield client_env
    finally:
        _stop(proc)


def _write_inputs(d: Path) -> dict[str, Path]:
    """Two tiny monolingual corpora, a parallel test set and a dictionary."""
    import random

    rng = random.Random(4)
    en, fr = [f"e{i}" for i in range(150)], [f"f{i}" for i in range(150)]
    d.mkdir(parents=True)
    (d / "en.txt").write_text("".join(" ".join(rng.choices(en, k=8)) + " .\n" for _ in range(600)))
    (d / "fr.txt").write_text("".join(" ".join(rng.choices(fr, k=8)) + " .\n" for _ in range(600)))
    idx = [rng.choices(range(150), k=5) for _ in range(10)]
    (d / "test.en").write_text("".join(" ".join(en[i] for i in s) + "\n" for s in idx))
    (d / "test.fr").write_text("".join(" ".join(fr[i] for i in s) + "\n" for s in idx))
    (d / "dict.tsv").write_text("".join(f"{a}\t{b}\n" for a, b in zip(en, fr)))
    return {p.name: p for p in d.iterdir()}


def test_deployment_runs_through_a_worker_on_postgres(postgres, server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    f = _write_inputs(tmp_path / "in")
    env = {**server, "UNPAIRED_DATA": str(tmp_path / "data"),
           "PREFECT_LOCAL_STORAGE_PATH": str(tmp_path / "data" / "prefect-results")}
    (tmp_path / "prefect.yaml").write_text(f"""
name: unpaired-itest
pull:
  - prefect.deployments.steps.set_working_directory:
      directory: {REPO}
deployments:
  - name: itest
    entrypoint: flows/corpus.py:prepare_corpus
    work_pool: {{name: itest}}
    parameters:
      config:
        src: {{lang: en, files: ["{f['en.txt']}"]}}
        tgt: {{lang: fr, files: ["{f['fr.txt']}"]}}
        test_files: ["{f['test.en']}", "{f['test.fr']}"]
        embeddings: {{dim: 16, epochs: 1, min_count: 1}}
        dictionary: {{files: ["{f['dict.tsv']}"]}}
""")

    def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        done = subprocess.run([PREFECT, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    cli("work-pool", "create", "itest", "--type", "process")
    cli("--no-prompt", "deploy", "--prefect-file", str(tmp_path / "prefect.yaml"), "--name", "itest")
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", "itest", "--type", "process"],
                                  env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        run = cli("deployment", "run", "prepare-corpus/itest", "--watch", "--watch-timeout", "300", timeout=360)
    finally:
        _stop(worker)
    assert "Completed" in run.stdout, run.stdout + log.read_text()[-3000:]

    with temporary_settings({PREFECT_API_URL: server["PREFECT_API_URL"]}), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("prepare-corpus/itest")
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(deployment_id={"any_": [deployment.id]}))
        assert len(runs) == 1 and runs[0].state.is_completed(), runs
        keys = {a.key for a in client.read_latest_artifacts()}
        assert "corpus-en-fr" in keys, keys
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[runs[0].id])))
        assert {"train-embeddings-en", "train-embeddings-fr", "build-dictionary"} <= {t.name for t in tasks}
        assert all(t.state.is_completed() for t in tasks)
    # The run is in PostgreSQL, not in some SQLite file.
    psql = postgres[1]
    rows = subprocess.run(psql + ["SELECT state_type FROM flow_run"], capture_output=True, text=True, check=True)
    assert rows.stdout.split() == ["COMPLETED"], rows.stdout
    objects = list((tmp_path / "data" / "store" / "objects").glob("*/*"))
    assert len(objects) >= 6 and not any((tmp_path / "data" / "store" / "tmp").iterdir())
