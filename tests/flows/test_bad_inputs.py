"""scripts/bad_inputs.py: every command, fed the bad inputs a new user tries, keeps the contract
(exit 0 or 2, no traceback, one error line naming the input, nothing stored, no server)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_command_answers_bad_input_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "bad_inputs.py"), "--jobs", "2",
                             "--work", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert result.stdout.splitlines()[-1].startswith("0 of ") and "BAD" not in result.stdout
