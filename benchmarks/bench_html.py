"""HTML run report at 10,000 cases: file size, time to write it, time until the page is
interactive in headless Chromium (Debian's, driven by Playwright), and how long a filter and a
free-text search over every row take in the page. Figures, not pass/fail.

    python benchmarks/bench_html.py [--cases 10000] [--chromium /usr/bin/chromium]

The issue's targets: under 15 MB, interactive within 2 s, a filter answering in under 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from evalkit.analysis.summary import summarize
from evalkit.analysis.synthetic import manifest
from evalkit.analysis.synthetic_report import report_records
from evalkit.report.html.headless import CHROMIUM, launch
from evalkit.report.html.run import run_html

#: time one filter change in the page: dispatch the event, the table is redrawn synchronously
_TIME_FILTER = """([id, value]) => {
  const el = document.getElementById(id);
  const t0 = performance.now();
  el.value = value;
  el.dispatchEvent(new Event(id === "q" ? "input" : "change"));
  const ms = performance.now() - t0;
  return [ms, document.getElementById("count").textContent];
}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--chromium", default=CHROMIUM)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    records = report_records(args.cases, seed=0)
    summary = summarize(records)
    t0 = time.perf_counter()
    page = run_html(manifest("support", "p1", "bench"), summary, records)
    build_s = time.perf_counter() - t0
    size = len(page.encode("utf-8"))
    print(f"{args.cases} cases: report.html {size / 1e6:.2f} MB, written in {build_s:.2f} s")

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        path = Path(tmp) / "report.html"
        path.write_text(page, encoding="utf-8")
        browser = launch(p, args.chromium)
        loads: list[float] = []
        indexed: list[float] = []
        filters: list[float] = []
        searches: list[float] = []
        for _ in range(args.repeats):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            tab = context.new_page()
            start = time.perf_counter()
            tab.goto(path.as_uri())
            tab.wait_for_selector("body[data-ready]", timeout=30_000)
            loads.append(time.perf_counter() - start)
            for value in ("fail", "pass", ""):
                ms, _ = tab.evaluate(_TIME_FILTER, ["outcome", value])
                filters.append(ms)
            tab.wait_for_selector("body[data-indexed]", timeout=30_000)
            indexed.append(time.perf_counter() - start)
            for value in ("warranty damaged", "case-0999", ""):
                ms, _ = tab.evaluate(_TIME_FILTER, ["q", value])
                searches.append(ms)
            context.close()
        browser.close()
    print(
        f"interactive after load: median {statistics.median(loads):.2f} s, "
        f"max {max(loads):.2f} s over {args.repeats} loads"
    )
    print(
        f"outcome filter over {len(records)} rows: median {statistics.median(filters):.1f} ms, "
        f"max {max(filters):.1f} ms"
    )
    print(
        f"search index built in the background {statistics.median(indexed):.2f} s after "
        "navigation (median)"
    )
    print(
        f"free-text search over {len(records)} rows once indexed: median "
        f"{statistics.median(searches):.1f} ms, max {max(searches):.1f} ms"
    )


if __name__ == "__main__":
    main()
