"""Test-wide settings: all runtime state in a temporary folder, never in the checkout."""
import atexit
import os
import shutil
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="unpaired-tests-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
os.environ["UNPAIRED_DATA"] = str(_TMP / "data")
os.environ["PREFECT_LOCAL_STORAGE_PATH"] = str(_TMP / "data" / "prefect-results")
os.environ["PREFECT_HOME"] = str(_TMP / "prefect-home")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def prefect_server():
    """One throwaway Prefect server and database for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=600):
        yield


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A fresh data root (artifact store, results) for one test."""
    root = tmp_path / "data"
    monkeypatch.setenv("UNPAIRED_DATA", str(root))
    return root
