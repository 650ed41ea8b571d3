"""Look at the Prefect UI as a person would: open the latest run and each stage's report in a
headless Chromium, keep screenshots, and check that the numbers the API holds are on the page.

    make server                                      # terminal 1
    PREFECT_API_URL=http://127.0.0.1:4200/api make demo
    make ui-check                                    # screenshots in data/reports/ui/

Exit status 1 when a page does not show what the API says it should.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path


def _post(api: str, path: str, body: dict) -> list[dict]:
    req = urllib.request.Request(f"{api}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    sys.exit("error: no Chromium found (Debian package 'chromium'; `make ui-check` installs it as root)")


def _page(browser: str, url: str, png: Path) -> str:
    """Screenshot of `url` into `png`; returns the rendered DOM."""
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--window-size=1400,1100", "--virtual-time-budget=15000"]
    subprocess.run(common + [f"--screenshot={png}", url], capture_output=True, timeout=120, check=True)
    return subprocess.run(common + ["--dump-dom", url], capture_output=True, text=True, timeout=120,
                          check=True).stdout


def _shown(value: object) -> str:
    """How the UI (JavaScript) prints a cell: 2.0 as '2'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _expected_text(artifact: dict) -> list[str]:
    """Strings the rendered page must contain: a table's header and first row, or a heading."""
    data = artifact.get("data")
    if artifact["type"] == "table":
        rows = json.loads(data) if isinstance(data, str) else data
        if isinstance(rows, list) and rows:
            return [str(k) for k in rows[0]] + [_shown(v) for v in list(rows[0].values())[:2]]
        return []
    if artifact["type"] == "markdown" and data:
        return [data.splitlines()[0].lstrip("# ").strip()[:40]]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="http://127.0.0.1:4200")
    parser.add_argument("--out", type=Path, default=Path("data/reports/ui"))
    parser.add_argument("--keys", nargs="*", help="artifact keys to check (default: every key there is)")
    args = parser.parse_args()
    api, browser = f"{args.server}/api", _chromium()
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0

    runs = _post(api, "/flow_runs/filter", {"limit": 1, "sort": "START_TIME_DESC",
                                             "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}})
    if runs:
        dom = _page(browser, f"{args.server}/runs/flow-run/{runs[0]['id']}", args.out / "latest-run.png")
        ok = runs[0]["name"] in dom and "Completed" in dom
        failures += not ok
        print(f"{'ok ' if ok else 'BAD'} run page {runs[0]['name']} -> {args.out / 'latest-run.png'}")
    latest = _post(api, "/artifacts/latest/filter", {"limit": 200})
    for art in latest:
        if not art.get("key") or (args.keys and art["key"] not in args.keys):
            continue
        png = args.out / f"{art['key']}.png"
        dom = _page(browser, f"{args.server}/artifacts/artifact/{art['latest_id']}", png)
        missing = [t for t in _expected_text(art) if t not in dom]
        failures += bool(missing)
        print(f"{'BAD' if missing else 'ok '} {art['key']} ({art['type']}) -> {png}"
              + (f"; not on the page: {missing}" if missing else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
