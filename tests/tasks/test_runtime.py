"""The console script carries its own runtime settings: the same outside make, in any shell."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PRINT_SETTINGS = """
import json, os
import flows.cli  # what `.venv/bin/unpaired` imports first
from prefect.settings import get_current_settings
s = get_current_settings()
print(json.dumps({"home": str(s.home), "analytics": s.server.analytics_enabled,
                  "startup": s.server.ephemeral.startup_timeout_seconds, "host": s.server.api.host,
                  "omp": os.environ.get("GOMP_SPINCOUNT")}))
"""


def test_a_bare_shell_gets_the_projects_prefect_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "UNPAIRED_", "DO_NOT_TRACK", "OMP_", "GOMP_"))}
    env["HOME"] = str(tmp_path)  # no user profile to fall back on
    out = subprocess.run([sys.executable, "-c", _PRINT_SETTINGS], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    settings = json.loads(out.stdout.strip().splitlines()[-1])
    assert settings == {"home": str(ROOT / ".prefect"), "analytics": False, "startup": 120, "host": "127.0.0.1",
                        "omp": "10000"}
