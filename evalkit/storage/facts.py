"""The graded facts of a run's records, read fast: what compare and the gate count, nothing else.

A stored record carries the rendered prompt, vars, expected answer and output; counting pass
rates needs none of them. Validating each ``results.jsonl`` line into :class:`RecordFacts` (a
typed projection of :class:`~evalkit.model.record.CaseRecord`) skips building those Python
objects, which is most of the cost of :func:`~evalkit.storage.store.read_records` on a
100,000-case run. Each line's byte offset is kept so the few full records a report shows can be
decoded afterwards (:func:`read_records_at`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import TypeAdapter, ValidationError
from typing_extensions import NotRequired, TypedDict

from evalkit.base.exceptions import InputError
from evalkit.model.record import CaseRecord
from evalkit.storage.store import RESULTS, decode_record, validate_line

OutcomeName = Literal["pass", "fail", "error"]


class ErrorFacts(TypedDict):
    kind: str
    message: str


class UsageFacts(TypedDict, total=False):
    input_tokens: int
    output_tokens: int


class CheckFacts(TypedDict):
    name: str
    outcome: OutcomeName
    reason: NotRequired[str]


class JudgeFacts(TypedDict):
    name: str
    outcome: OutcomeName
    reasoning: NotRequired[str]
    error: NotRequired[ErrorFacts | None]
    cost_usd: NotRequired[float | None]


class RecordFacts(TypedDict):
    """The fields of a CaseRecord that pass rates, summaries and failure reasons read (absent
    ones take CaseRecord's defaults)."""

    case_id: str
    repeat: NotRequired[int]
    tags: NotRequired[list[str]]
    outcome: OutcomeName
    error: NotRequired[ErrorFacts | None]
    checks: NotRequired[list[CheckFacts]]
    judges: NotRequired[list[JudgeFacts]]
    usage: NotRequired[UsageFacts]
    cost_usd: NotRequired[float | None]
    truncated: NotRequired[bool]
    latency_ms: NotRequired[float | None]
    cached: NotRequired[bool]


_ADAPTER: TypeAdapter[RecordFacts] = TypeAdapter(RecordFacts)


def facts_of(rec: CaseRecord) -> RecordFacts:
    """The facts of a record already in memory (the same projection a line is read into)."""
    return {
        "case_id": rec.case_id,
        "repeat": rec.repeat,
        "tags": rec.tags,
        "outcome": rec.outcome.value,
        "error": None if rec.error is None else _error(rec.error.kind, rec.error.message),
        "checks": [
            {"name": c.name, "outcome": c.outcome.value, "reason": c.reason} for c in rec.checks
        ],
        "judges": [
            {
                "name": j.name,
                "outcome": j.outcome.value,
                "reasoning": j.reasoning,
                "error": None if j.error is None else _error(j.error.kind, j.error.message),
                "cost_usd": j.cost_usd,
            }
            for j in rec.judges
        ],
        "usage": {
            "input_tokens": rec.usage.input_tokens,
            "output_tokens": rec.usage.output_tokens,
        },
        "cost_usd": rec.cost_usd,
        "truncated": rec.truncated,
        "latency_ms": rec.latency_ms,
        "cached": rec.cached,
    }


def _error(kind: str, message: str) -> ErrorFacts:
    return {"kind": kind, "message": message}


def corrupt(
    exc: ValidationError | ValueError, path: Path, *, line: int | None = None, at: str = ""
) -> InputError:
    """The error for a results.jsonl line that does not decode, naming the file and line."""
    msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
    return InputError(f"corrupt result record{at}: {msg}", path=path, line=line)


def _decode(line: bytes, path: Path, number: int) -> RecordFacts:
    try:
        return validate_line(_ADAPTER, line)
    except (ValidationError, ValueError) as exc:
        raise corrupt(exc, path, line=number) from None


def scan_facts(path: Path) -> Iterator[tuple[int, RecordFacts]]:
    """``(byte offset, facts)`` of every line of a run's results in file order, superseded
    lines included (the reader applies :func:`~evalkit.storage.store.latest_records`' rule).

    A torn last line (no newline: a killed write) is skipped, as
    :func:`~evalkit.storage.store.iter_all_records` does.
    """
    p = path / RESULTS
    if not p.exists():
        return
    offset = 0
    with p.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            start, offset = offset, offset + len(line)
            if not line.endswith(b"\n") or not line.strip():
                continue
            yield start, _decode(line, p, number)


def read_records_at(path: Path, offsets: list[int]) -> list[CaseRecord]:
    """The full records on the lines starting at ``offsets`` (from :func:`scan_facts`)."""
    p = path / RESULTS
    out = []
    with p.open("rb") as fh:
        for offset in offsets:
            fh.seek(offset)
            try:
                out.append(decode_record(fh.readline().decode("utf-8")))
            except (ValidationError, ValueError) as exc:
                raise corrupt(exc, p, at=f" at byte {offset}") from None
    return out
