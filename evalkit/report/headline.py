"""The headline of one run, from its ``summary.json``: the same words in the terminal after
``evalkit run`` and at the top of ``report.md``.

It gives the pass rate with the number of cases it rests on, its interval (or why none is
shown), output counts and error rate, each grader's pass and error rates, and the warnings
:func:`evalkit.analysis.caserates.grader_warnings` raised (a grader that mostly errored, a pass
rate whose
outputs mostly could not be graded).
"""

from __future__ import annotations

from typing import Any

from evalkit.base.format import pct


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


def selection_line(summary: dict[str, Any]) -> str | None:
    """What the figures stand for when the run covered part of the suite (None: all of it).

    A stratified sample estimates the whole suite; a case/tag/limit subset or a shard describes
    only its own cases.
    """
    sel = summary.get("selection")
    if not sel:
        return None
    flags = sel.get("flags", {})
    n, total = sel.get("selected"), sel.get("total")
    asked = " ".join(
        f"--{k} {v}" if not isinstance(v, list) else " ".join(f"--{k} {x}" for x in v)
        for k, v in flags.items()
    )
    if "sample" in flags and "shard" not in flags and "limit" not in flags:
        population = sel.get("population", total)
        of = "the full suite" if population == total else f"the {population} cases selected"
        return (
            f"sample of {n} of {population} cases (stratified by tag, seed {flags['seed']}; "
            f"{asked}): these figures estimate {of}, they are not its measured values"
        )
    return f"subset: {n} of {total} cases ({asked}): these figures describe these cases only"


def grader_lines(summary: dict[str, Any]) -> list[str]:
    """Each check's and judge's pass and error rates, one indented line each."""
    rows = [
        (f"{kind} {name}", r)
        for kind, key in (("check", "checks"), ("judge", "judges"))
        for name, r in (summary.get(key) or {}).items()
    ]
    width = max((len(label) for label, _ in rows), default=0)
    return [
        f"  {label:<{width}}  pass {pct(r['pass_rate']):>6}  error {pct(r['error_rate']):>6}"
        for label, r in rows
    ]


def headline(summary: dict[str, Any], *, graders: bool = True) -> list[str]:
    """The pass-rate line, one ``WARNING:`` line per warning, then (with ``graders``) each
    grader's pass and error rates (report.md has them in its tables instead)."""
    lines = [pass_rate_line(summary)]
    if (selected := selection_line(summary)) is not None:
        lines.append(selected)
    lines += [f"WARNING: {w}" for w in summary.get("warnings") or []]
    if graders and (rows := grader_lines(summary)):
        lines += ["graders:", *rows]
    return lines
