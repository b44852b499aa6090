"""The headline of one run, from its ``summary.json``: the same words in the terminal after
``evalkit run`` and at the top of ``report.md``.

It gives the pass rate with the number of cases it rests on, its interval (or why none is
shown), output counts and error rate, each grader's pass and error rates, and the warnings
:func:`evalkit.summary.grader_warnings` raised (a grader that mostly errored, a pass rate whose
outputs mostly could not be graded).
"""

from __future__ import annotations

from typing import Any

from evalkit._format import pct


def pass_rate_line(summary: dict[str, Any]) -> str:
    """``pass rate 85.0% over 20 cases, 95% CI …; 20 outputs: 17 pass, 3 fail, 0 error …``"""
    cases, graded = summary.get("cases", 0), summary.get("graded_cases", summary.get("cases", 0))
    over = f"over {graded} cases" if graded == cases else f"over {graded} of {cases} cases"
    if graded < cases:
        over += f" ({cases - graded} could not be graded)"
    interval = summary.get("pass_rate_interval")
    note = summary.get("pass_rate_interval_note") or "not computed"
    if interval:
        level = f"{interval.get('confidence', 0.95):.0%}"
        ci = f"{level} CI {pct(interval['low'])}–{pct(interval['high'])} ({note})"
    else:
        ci = f"interval not shown ({note})"
    return (
        f"pass rate {pct(summary['pass_rate'])} {over}, {ci}; {summary['n']} outputs: "
        f"{summary['pass']} pass, {summary['fail']} fail, {summary['error']} error "
        f"(error rate {pct(summary['error_rate'])})"
    )


def grader_line(summary: dict[str, Any]) -> str | None:
    """Each check's and judge's pass and error rates, on one line (None without graders)."""
    parts = [
        f"{kind} {name}: pass {pct(r['pass_rate'])}, error {pct(r['error_rate'])}"
        for kind, key in (("check", "checks"), ("judge", "judges"))
        for name, r in (summary.get(key) or {}).items()
    ]
    return "graders: " + " · ".join(parts) if parts else None


def headline(summary: dict[str, Any]) -> list[str]:
    """The pass-rate line, the graders line, then one ``WARNING:`` line per warning."""
    lines = [pass_rate_line(summary)]
    graders = grader_line(summary)
    if graders:
        lines.append(graders)
    lines += [f"WARNING: {w}" for w in summary.get("warnings") or []]
    return lines
