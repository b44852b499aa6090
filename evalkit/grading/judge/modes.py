"""How a judge asks for its structured verdict: the output modes and the ``auto`` ladder.

Servers differ in what they honour. The hosted APIs force a tool call; llama.cpp's
``llama-server`` ignores the object form of ``tool_choice`` (and, depending on the build, a
``response_format`` schema), so a judge hard-wired to tools never gets a verdict there. A judge
therefore has an ``output`` mode:

* ``tools``: forced tool use (instructor ``Mode.TOOLS``), the best where it is honoured;
* ``json_schema``: OpenAI ``response_format`` with the verdict's JSON schema (OpenAI wire only:
  instructor would quietly turn it into ``json`` on the Anthropic SDK in use here);
* ``json``: a JSON object, with the schema spelled out in the system prompt (``Mode.JSON``);
* ``text``: a tagged verdict (``<reasoning>…</reasoning><verdict>…</verdict>``) parsed from plain
  text: works with any model that can follow an instruction;
* ``auto`` (default): the ladder of the wire (:data:`LADDERS`), best first. A judge falls back a
  rung when the server rejects the mode (400/422) or ignores it (the answer carries no usable
  verdict, or was cut at ``max_tokens`` before it even began the mode's structure: a small model
  writing prose instead of the forced tool call); once a rung gives a verdict the judge stays
  there, so the fallback happens once per judge, not once per case.

The mode used is recorded on every verdict and is part of the verdict's judge version.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Literal

from evalkit.model.record import ErrorInfo

if TYPE_CHECKING:
    from evalkit.grading.judge.scale.base import Scale

OutputMode = Literal["auto", "tools", "json_schema", "json", "text"]
ConcreteMode = Literal["tools", "json_schema", "json", "text"]
MODES: tuple[OutputMode, ...] = ("auto", "tools", "json_schema", "json", "text")

#: wire → the modes ``auto`` tries, best first. ``json_schema`` is OpenAI's ``response_format``;
#: a judge file asking for it on the Anthropic wire is refused when it is loaded.
LADDERS: dict[str, tuple[ConcreteMode, ...]] = {
    "openai": ("tools", "json_schema", "json", "text"),
    "anthropic": ("tools", "json", "text"),
}

#: instructor's mode names per concrete mode (the same names on both wires in instructor 1.17)
INSTRUCTOR_MODES: dict[ConcreteMode, str] = {
    "tools": "TOOLS",
    "json_schema": "JSON_SCHEMA",
    "json": "JSON",
}

_VERDICT_RE = re.compile(r"<verdict>\s*(.*?)\s*</verdict>", re.IGNORECASE | re.DOTALL)
_REASONING_RE = re.compile(r"<reasoning>\s*(.*?)\s*</reasoning>", re.IGNORECASE | re.DOTALL)


def ladder(wire: str, mode: OutputMode) -> tuple[ConcreteMode, ...]:
    """The modes to try, in order: the wire's ladder for ``auto``, else just ``mode``."""
    if mode == "auto":
        return LADDERS[wire]
    return (mode,)


def unsupported(error: ErrorInfo | None, *, ignored: bool) -> bool:
    """Whether a failed verdict says the *mode* does not work on this server.

    Rejected (a 400 or 422 that is not about the context length) or ignored (``ignored``: the
    answer was not in the mode's shape at all, see :func:`ignored_by`). A tool call or JSON
    object with a wrong verdict inside is the model's mistake, not the mode's; rate limits and
    timeouts are not about the mode either, nor is truncation unless the cut answer had not
    begun the mode's structure (see :func:`ignored_by`).
    """
    if error is None:
        return False
    if error.kind in ("unparseable", "truncated"):
        return ignored
    return error.kind in ("bad_request", "unprocessable") and error.status in (400, 422)


def ignored_by(mode: ConcreteMode, completion: Any, *, cut: bool = False) -> bool:
    """Whether a reply (either wire's SDK object, or evalkit's Completion in ``text`` mode)
    ignored ``mode``: no tool call in ``tools`` mode, no JSON object in the JSON modes, no
    verdict tag in ``text`` mode.

    ``cut``: the reply stopped at ``max_tokens``, so a *begun* structure counts (a ``{`` in
    the JSON modes, a ``<reasoning>`` or ``<verdict>`` tag in ``text`` mode): that says the
    mode works and max_tokens is too small, while prose that never began it (a tiny model
    rambling instead of calling the forced tool) says the mode is ignored.
    """
    if completion is None:
        return True
    if mode == "tools":
        return not _has_tool_call(completion)
    text = _reply_text(completion)
    if mode == "text":
        if cut:
            return "<verdict" not in text.lower() and "<reasoning" not in text.lower()
        return _VERDICT_RE.search(text) is None
    return "{" not in text if cut else _json_object(text) is None


def _has_tool_call(completion: Any) -> bool:
    blocks = getattr(completion, "content", None)
    if isinstance(blocks, list):
        return any(getattr(b, "type", None) == "tool_use" for b in blocks)
    choices = getattr(completion, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    return bool(getattr(message, "tool_calls", None))


def _reply_text(completion: Any) -> str:
    own = getattr(completion, "text", None)  # evalkit's Completion (text mode)
    if isinstance(own, str):
        return own
    blocks = getattr(completion, "content", None)
    if isinstance(blocks, list):
        return "".join(
            str(getattr(b, "text", "")) for b in blocks if getattr(b, "type", "") == "text"
        )
    choices = getattr(completion, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    return str(getattr(message, "content", None) or "")


def _json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in ``text`` (bare, fenced or embedded in prose), or None."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        value = json.loads(text[start : end + 1])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def text_instructions(scale: Scale) -> str:
    """What the system prompt adds in ``text`` mode: the exact answer format."""
    return (
        "Answer format: plain text, exactly\n"
        "<reasoning>your brief reasoning</reasoning>\n"
        f"<verdict>{scale.text_values}</verdict>\n"
        "Write nothing after the verdict."
    )


def parse_text_verdict(text: str, scale: Scale) -> dict[str, Any]:
    """The verdict fields out of a ``text``-mode answer; ValueError says what is wrong.

    The *last* ``<verdict>`` counts: a judge may quote the graded output, which can hold a
    fake verdict tag, before giving its own.
    """
    found = _VERDICT_RE.findall(text)
    if not found:
        raise ValueError(f"no <verdict>…</verdict> in the answer (expected {scale.text_values})")
    value = scale.parse_example(found[-1].strip().strip("\"'`*"))
    reasons = _REASONING_RE.findall(text)
    reasoning = reasons[-1] if reasons else _VERDICT_RE.sub("", text).strip()
    return {"reasoning": reasoning, scale.verdict_field: value}
