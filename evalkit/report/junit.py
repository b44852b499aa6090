"""JUnit XML: one ``<testcase>`` per golden case × repeat, so CI test tabs show evalkit results.

A *fail* outcome is a ``<failure>`` (the output was graded wrong), an *error* outcome an
``<error>`` (it could not be graded): CI UIs show the two differently, as evalkit does.

Every text and attribute goes through :func:`evalkit.base.escape.xml` (ElementTree escapes ``<&>``
but writes control characters and lone surrogates that make the file unparseable).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from evalkit.analysis.caserates import grader_reasons
from evalkit.analysis.compare import Comparison, summarize_run
from evalkit.base.escape import truncate, xml
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord
from evalkit.storage.store import StoredRun

_MAX_OUTPUT = 2000
_MAX_ATTR = 500


def _failure_text(rec: CaseRecord) -> tuple[str, str]:
    names = [c.name for c in rec.checks if c.outcome is Outcome.FAIL]
    names += [f"judge {j.name}" for j in rec.judges if j.outcome is Outcome.FAIL]
    # a grader that could not grade stays visible even when another one failed the output
    lines = [truncate(why, _MAX_OUTPUT) for why in grader_reasons(rec, Outcome.FAIL)] + [
        f"error: {truncate(why, _MAX_OUTPUT)}" for why in grader_reasons(rec, Outcome.ERROR)
    ]
    if rec.output is not None:
        lines.append(f"output: {truncate(rec.output, _MAX_OUTPUT)}")
    return ", ".join(names) or "failed", "\n".join(lines)


def _error_text(rec: CaseRecord) -> tuple[str, str, str]:
    if rec.error is not None:
        return rec.error.kind, rec.error.message, truncate(rec.error.message, _MAX_OUTPUT)
    bad = [truncate(why, _MAX_OUTPUT) for why in grader_reasons(rec, Outcome.ERROR)]
    return "ungraded", "could not be graded", "\n".join(bad)


def _sub(
    parent: ET.Element, tag: str, attrs: dict[str, str], text: str | None = None
) -> ET.Element:
    """A child element with every attribute and the text made XML-safe."""
    el = ET.SubElement(parent, tag, {k: xml(truncate(v, _MAX_ATTR)) for k, v in attrs.items()})
    if text is not None:
        el.text = xml(text)
    return el


def junit_xml(run: StoredRun, comparison: Comparison | None = None) -> str:
    """Serialise ``run`` as a JUnit ``<testsuites>`` document; regressions are marked as such."""
    suite = run.suite or "evalkit"
    status = {c.case_id: c.status for c in comparison.cases} if comparison else {}
    repeated = any(r.repeat for r in run.records)
    failures = sum(r.outcome is Outcome.FAIL for r in run.records)
    errors = sum(r.outcome is Outcome.ERROR for r in run.records)
    total_time = sum((r.latency_ms or 0.0) for r in run.records) / 1000
    counts = {
        "tests": str(len(run.records)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
        "time": f"{total_time:.3f}",
    }
    root = ET.Element("testsuites", {"name": "evalkit", **counts})
    ts = _sub(root, "testsuite", {"name": suite, **counts})
    props = ET.SubElement(ts, "properties")
    for key in ("run_id", "prompt_version", "golden_sha"):
        _sub(props, "property", {"name": key, "value": str(run.manifest.get(key, ""))})
    # the run's figures under the one definition every output uses (see evalkit.analysis.caserates)
    summary = comparison.head if comparison is not None else summarize_run(run)
    figures = {
        "pass_rate": summary.pass_rate,
        "error_rate": summary.error_rate,
        "cases": summary.n_cases,
        "graded_cases": summary.n_graded_cases,
    }
    for key, value in figures.items():
        text = "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else value
        ET.SubElement(props, "property", {"name": key, "value": str(text)})
    for rec in run.records:
        name = f"{rec.case_id}#{rec.repeat}" if repeated else rec.case_id
        tc = _sub(
            ts,
            "testcase",
            {
                "classname": f"evalkit.{suite}",
                "name": name,
                "time": f"{(rec.latency_ms or 0.0) / 1000:.3f}",
            },
        )
        prefix = "regressed: " if status.get(rec.case_id) == "regressed" else ""
        if rec.outcome is Outcome.FAIL:
            message, text = _failure_text(rec)
            _sub(tc, "failure", {"message": prefix + message, "type": "fail"}, text)
        elif rec.outcome is Outcome.ERROR:
            kind, message, text = _error_text(rec)
            _sub(tc, "error", {"message": message, "type": kind}, text)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
