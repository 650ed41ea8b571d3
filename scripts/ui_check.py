"""Look at the Prefect UI as a person would: open the latest run and each stage's report in a
headless Chromium, keep screenshots, and check that the numbers the API holds are on the page and
that every plot embedded in a report renders as an image.

    make server                                      # terminal 1
    PREFECT_API_URL=http://127.0.0.1:4200/api make demo
    make ui-check                                    # screenshots in data/reports/ui/

Exit status 1 when a page does not show what the API says it should.
"""
from __future__ import annotations

import argparse
import json
import shutil
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


# Every <img> of the page: its alt text, whether it is a data URI, and its decoded width (0: not rendered).
_IMAGES = "() => [...document.images].map(i => [i.alt, i.src.startsWith('data:image/'), i.complete ? i.naturalWidth : 0])"


def _page(browser, url: str, png: Path) -> tuple[str, list[tuple[str, bool, int]]]:
    """Open `url` as a person would, keep a full-page screenshot; the page's text and its images."""
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        page.goto(url, wait_until="networkidle", timeout=60_000)
        page.wait_for_timeout(1500)  # the UI renders artifact data after its API calls return
        page.screenshot(path=str(png), full_page=True)
        return page.inner_text("body"), [tuple(i) for i in page.evaluate(_IMAGES)]
    finally:
        page.close()


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


def _plots(artifact: dict) -> int:
    """How many embedded PNGs a markdown artifact carries."""
    data = artifact.get("data")
    return data.count("](data:image/png;base64,") if artifact["type"] == "markdown" and data else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="http://127.0.0.1:4200")
    parser.add_argument("--out", type=Path, default=Path("data/reports/ui"))
    parser.add_argument("--keys", nargs="*", help="artifact keys to check (default: every key there is)")
    args = parser.parse_args()
    api = f"{args.server}/api"
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"])
        runs = _post(api, "/flow_runs/filter", {"limit": 1, "sort": "START_TIME_DESC",
                                                 "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}})
        if runs:
            text, _ = _page(browser, f"{args.server}/runs/flow-run/{runs[0]['id']}", args.out / "latest-run.png")
            ok = runs[0]["name"] in text and "Completed" in text
            failures += not ok
            print(f"{'ok ' if ok else 'BAD'} run page {runs[0]['name']} -> {args.out / 'latest-run.png'}")
        for art in _post(api, "/artifacts/latest/filter", {"limit": 200}):
            if not art.get("key") or (args.keys and art["key"] not in args.keys):
                continue
            png = args.out / f"{art['key']}.png"
            text, images = _page(browser, f"{args.server}/artifacts/artifact/{art['latest_id']}", png)
            problems = [f"not on the page: {t!r}" for t in _expected_text(art) if t not in text]
            rendered = sum(1 for _, data_uri, width in images if data_uri and width > 0)
            if rendered < _plots(art):
                problems.append(f"{rendered} of {_plots(art)} plots rendered")
            failures += bool(problems)
            shown = f", {rendered} plot(s) rendered" if _plots(art) else ""
            print(f"{'BAD' if problems else 'ok '} {art['key']} ({art['type']}{shown}) -> {png}"
                  + (f"; {'; '.join(problems)}" if problems else ""))
        browser.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
