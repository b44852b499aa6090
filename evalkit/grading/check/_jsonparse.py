"""Parsing model output as JSON, strictly or by extracting it from fences and chatty prose.

Shared by the JSON and grounding checks. Results are memoised per output text, because a suite
typically runs several JSON checks on the same output: the parse happens once. Callers must
treat the returned value as read-only (copy before mutating).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\r?\n(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()
_OPENERS = re.compile(r"[\[{]")

#: description of the ``extract`` parameter every check reading the output as JSON has
EXTRACT_HELP = "find the JSON in fenced blocks or surrounding prose first"


@dataclass(frozen=True)
class Parsed:
    """The JSON value found in an output, or why none was found."""

    ok: bool
    value: Any = None
    error: str = ""
    span: tuple[int, int] | None = None


def snippet(text: str, start: int = 0, width: int = 60) -> str:
    """A short, single-line quote of ``text`` around ``start`` for failure reasons."""
    begin = max(0, start - width // 3)
    piece = text[begin : begin + width].replace("\n", "\\n")
    prefix = "…" if begin > 0 else ""
    suffix = "…" if begin + width < len(text) else ""
    return f"{prefix}{piece}{suffix}"


def extract_json(text: str) -> Parsed:
    """Find the JSON object or array in ``text``.

    Order: the whole text; then fenced blocks (```json first, then any fence); then the longest
    object/array that decodes starting at a ``{`` or ``[`` in the prose (longest, so a citation
    marker like ``[1]`` before the real payload does not win).
    """
    whole = _strict(text)
    if whole.ok and isinstance(whole.value, (dict, list)):
        return whole
    fences = list(_FENCE.finditer(text))
    fences.sort(key=lambda m: m.group(1).lower() != "json")
    for fence in fences:
        body = fence.group(2)
        try:
            value = json.loads(body)
        except ValueError:
            continue
        if isinstance(value, (dict, list)):
            return Parsed(True, value, span=(fence.start(2), fence.end(2)))
    best: Parsed | None = None
    pos = 0
    while True:
        match = _OPENERS.search(text, pos)
        if match is None:
            break
        start = match.start()
        try:
            value, end = _DECODER.raw_decode(text, start)
        except ValueError:
            pos = start + 1
            continue
        if best is None or best.span is None or end - start > best.span[1] - best.span[0]:
            best = Parsed(True, value, span=(start, end))
        pos = end
    if best is not None:
        return best
    return Parsed(False, error=f"no JSON object or array found in output: {snippet(text)!r}")


def _strict(text: str) -> Parsed:
    try:
        return Parsed(True, json.loads(text), span=(0, len(text)))
    except json.JSONDecodeError as exc:
        return Parsed(
            False,
            error=f"output is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}):"
            f" {snippet(text, exc.pos)!r}",
        )


@lru_cache(maxsize=256)
def load_output(text: str, extract: bool) -> Parsed:
    """The output as JSON: strictly, or with :func:`extract_json` when ``extract`` is true."""
    if not isinstance(text, str):
        raise TypeError(f"output must be text, got {type(text).__name__}")
    return extract_json(text) if extract else _strict(text)


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` equals ``1.0``, key order is ignored."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and bool(a == b)


def differences(expected: Any, found: Any, path: str = "$", limit: int = 5) -> list[str]:
    """Human-readable differences between two JSON values, at most ``limit``."""
    out: list[str] = []
    _diff(expected, found, path, out, limit)
    return out


def _diff(expected: Any, found: Any, path: str, out: list[str], limit: int) -> None:
    if len(out) >= limit:
        return
    if isinstance(expected, dict) and isinstance(found, dict):
        for key in expected:
            if key not in found:
                out.append(f"{path}.{key}: missing")
            else:
                _diff(expected[key], found[key], f"{path}.{key}", out, limit)
        out.extend(f"{path}.{key}: unexpected" for key in found if key not in expected)
        del out[limit:]
    elif isinstance(expected, list) and isinstance(found, list) and len(expected) == len(found):
        for index, (x, y) in enumerate(zip(expected, found, strict=True)):
            _diff(x, y, f"{path}[{index}]", out, limit)
    elif not json_equal(expected, found):
        out.append(f"{path}: expected {_short(expected)}, found {_short(found)}")


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"
