"""One case of a stored run as text for the terminal: ``evalkit show RUN CASE``.

The same single-case view the HTML report's drill-down shows: variables, the rendered prompt
exactly as sent, the expected answer, then per repeat the output, every check's result and
reason, each judge's verdict and reasoning, tokens, cost, latency and finish reason. Every text
from the record goes through :func:`evalkit.base.escape.terminal` (and is cut at
:data:`MAX_TEXT` characters, saying how many were left out).
"""

from __future__ import annotations

import json
from typing import Any

from evalkit.base.escape import terminal, truncate
from evalkit.base.format import usd
from evalkit.model.record import CaseRecord, JudgeVerdict

#: longest text printed whole; results.jsonl keeps the rest
MAX_TEXT = 20_000


def _text(value: Any) -> str:
    raw = value if isinstance(value, str) else _json(value)
    return terminal(truncate(raw, MAX_TEXT))


def message_text(message: dict[str, Any]) -> str:
    """One sent message as text: its content, and any other field it carries (tool calls, a
    tool call id) as JSON after it, so nothing that was sent is hidden."""
    content = message.get("content")
    text = content if isinstance(content, str) or content is None else _json(content)
    extra = {k: v for k, v in message.items() if k not in ("role", "content")}
    if extra:
        text = f"{text}\n{_json(extra)}" if text else _json(extra)
    return text or ""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _block(title: str, value: Any) -> list[str]:
    body = _text(value).splitlines() or [""]
    return [f"── {title}", *(f"  {line}" for line in body)]


def _judge_lines(j: JudgeVerdict) -> list[str]:
    head = f"  judge {_text(j.name)}: {j.outcome.value}"
    if j.score is not None:
        head += f" (score {j.score})"
    if j.verdict is not None:
        head += f", verdict {_text(j.verdict)}"
    lines = [head]
    if j.error is not None:
        lines.append(f"    error {_text(j.error.kind)}: {_text(j.error.message)}")
    lines += [f"    {line}" for line in _text(j.reasoning or "no reasoning given").splitlines()]
    return lines


def _repeat_lines(r: CaseRecord) -> list[str]:
    lines = [f"══ repeat {r.repeat}: {r.outcome.value.upper()}"]
    if r.error is not None:
        status = f" (HTTP {r.error.status})" if r.error.status else ""
        lines.append(f"  error {_text(r.error.kind)}{status}: {_text(r.error.message)}")
    if r.trajectory is not None:  # a conversation: its tool calls and results, compactly
        lines += _block("trajectory", r.trajectory.compact())
    lines += _block("output", r.output) if r.output is not None else ["── output: none"]
    for c in r.checks:
        reason = f": {_text(c.reason)}" if c.reason else ""
        lines.append(f"  check {_text(c.name)}: {c.outcome.value}{reason}")
    for j in r.judges:
        lines += _judge_lines(j)
    u = r.usage
    latency = "n/a" if r.latency_ms is None else f"{r.latency_ms:.0f} ms"
    lines.append(
        f"  tokens {u.input_tokens} in / {u.output_tokens} out · cost {usd(r.cost_usd)} · "
        f"latency {latency} · finish {_text(r.finish_reason or 'n/a')}"
        + (" (truncated at the token limit)" if r.truncated else "")
        + f" · attempts {r.attempts}"
        + (" (cached)" if r.cached else "")
    )
    return lines


def case_view(records: list[CaseRecord]) -> str:
    """All repeats of one case (``records`` share a case id), ready to print."""
    first = min(records, key=lambda r: r.repeat)
    lines = [f"case {_text(first.case_id)}"]
    if first.tags:
        lines.append(f"tags: {_text(', '.join(first.tags))}")
    lines += _block("variables", first.vars)
    if first.prompt is None:
        lines.append("── prompt: not stored (a run made before evalkit kept the prompt as sent)")
    else:
        lines.append("── prompt, exactly as sent")
        for m in first.prompt:
            lines.append(f"  [{_text(str(m.get('role', '?')))}]")
            lines += [f"    {line}" for line in _text(message_text(m)).splitlines()]
    if first.expected is not None:
        lines += _block("expected", first.expected)
    for r in sorted(records, key=lambda r: r.repeat):
        lines += _repeat_lines(r)
    return "\n".join(lines) + "\n"
