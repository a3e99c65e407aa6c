"""Make docs/report.png: the report of the README's main command, as headless chromium shows it.

Ingests the demo bundle into a temporary RUSTYBT_ROOT, runs the README's main
backtest with ``--report``, opens the page from its file in Debian's chromium
(driven by Playwright; nothing is fetched) and saves a full-page screenshot.

Run: ``.venv/bin/python docs/make_report_screenshot.py [--out docs/report.png]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# The browser flags and the drawn-plots test are the browser test's.
from tests.integration.test_report_browser import ALL_PLOTS_DRAWN, CHROMIUM_FLAGS  # noqa: E402


def rustybt(*args: str, env: dict[str, str]) -> None:
    """Run the ``rustybt`` command of this interpreter; stop on failure."""
    command = [sys.executable, "-m", "rustybt", *args]
    subprocess.run(command, check=True, env=env, cwd=REPO)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "report.png")
    parser.add_argument("--width", type=int, default=1400)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed: run `apt-get install -y chromium`")

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, RUSTYBT_ROOT=str(Path(folder) / "root"))
        results = Path(folder) / "results"
        rustybt("ingest", "-b", "demo", env=env)
        rustybt(
            "run", "-f", "examples/dual_moving_average.py", "-b", "demo",
            "-s", "2015-01-02", "-e", "2024-12-31", "--capital-base", "100000",
            "--benchmark-symbol", "SPY", "-o", str(results / "dual_moving_average.csv"),
            "--ledger-output", str(results / "ledger.json"),
            "--report", str(results / "report.html"),
            env=env,
        )  # fmt: skip
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": args.width, "height": 900})
            page.goto((results / "report.html").as_uri(), wait_until="load")
            page.wait_for_function(ALL_PLOTS_DRAWN)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=True)
            browser.close()
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
