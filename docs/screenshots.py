"""Make the README's screenshots of the three HTML views from the bundled demo, with the same
tooling as the browser tests (Debian's headless Chromium driven by Playwright).

    python docs/screenshots.py [--out docs/img]

Runs ``evalkit demo`` in a temporary copy of the example project, then writes
``report-run.png``, ``report-cases.png`` (filtered to the failing outputs), ``report-case.png``
(one case opened),
``report-compare.png`` (a regressed case opened) and ``report-history.png``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _evalkit(cwd: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "evalkit", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    ap.add_argument("--chromium", default="")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    from evalkit.report.html.headless import CHROMIUM, launch

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ("evalkit.yaml", "goldens", "prompts", "schemas", "scripts", "judges"):
            src = ROOT / name
            (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name)
        _evalkit(work, "demo")
        v1, v2 = sorted(work.glob("runs/support/*/*/manifest.json"), key=lambda p: p.parent.name)
        _evalkit(work, "baseline", "set", v1.parent.name)
        _evalkit(work, "compare", v1.parent.name, v2.parent.name, "--html", "compare.html")
        _evalkit(work, "runs", "support", "--html", "history.html")
        run = v2.parent / "report.html"
        shots = [  # page, picture, #fragment, a script to run first, viewport height
            (run, "report-run.png", "", "", 1000),
            (run, "report-cases.png", "", "filter", 900),
            (run, "report-case.png", "#case=refund-price-drop", "", 900),
            (work / "compare.html", "report-compare.png", "", "open", 1200),
            (work / "history.html", "report-history.png", "", "", 800),
        ]
        with sync_playwright() as p:
            browser = launch(p, args.chromium or CHROMIUM)
            for page_path, png, hash_, action, height in shots:
                page = browser.new_page(viewport={"width": 1280, "height": height})
                page.goto(page_path.as_uri() + hash_)
                page.wait_for_selector("body[data-ready]")
                if action == "filter":  # only the failing outputs
                    page.select_option("#outcome", "fail")
                    page.evaluate("document.getElementById('cases').scrollIntoView()")
                elif action == "open":  # the first changed case (regressed ones come first)
                    page.click("details.case summary")
                if action != "filter" and not hash_:
                    page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(args.out / png))
                print(f"wrote {args.out / png}")
                page.close()
            browser.close()


if __name__ == "__main__":
    main()
