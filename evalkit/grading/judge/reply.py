"""What a judge's answer gives, apart from any client: the sample, why there is no verdict,
the ``text`` mode's answer format, refusals and token usage (split from
:mod:`evalkit.grading.judge.call`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evalkit.execution.provider import _common
from evalkit.grading.judge import modes
from evalkit.model.provider import Message
from evalkit.model.record import ErrorInfo

if TYPE_CHECKING:
    from evalkit.grading.judge.scale.base import Scale


@dataclass
class Sample:
    """One judge sample: the validated verdict (as a dict) or why there is none, and its cost."""

    verdict: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    model: str = ""
    cached: bool = False
    #: the output mode that produced (or failed to produce) this sample
    mode: str = ""
    #: the server ignored the mode (no tool call, no JSON): ``auto`` falls back a rung
    mode_ignored: bool = False
    #: input tokens read from / written to the provider's prompt cache (Anthropic)
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    #: of the tokens above, those a provider batch answered (input, output, cache read,
    #: cache write): priced at the batch discount
    batch_usage: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    extra: dict[str, Any] = field(default_factory=dict)

    def add_cost_of(self, other: Sample) -> None:
        """Count another (failed) sample's requests and tokens in this one: honest costs."""
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.batch_usage = [a + b for a, b in zip(self.batch_usage, other.batch_usage, strict=True)]


class NoVerdict(Exception):
    """The judge answered, but not with a usable verdict (not retried by evalkit's policy).

    ``ignored``: the answer was not in the output mode's shape at all (see
    :func:`evalkit.grading.judge.modes.ignored_by`), so ``auto`` may fall back a rung.
    """

    def __init__(self, kind: str, message: str, *, ignored: bool = False) -> None:
        self.kind = kind
        self.message = message
        self.ignored = ignored
        super().__init__(message)


def truncated(*, ignored: bool) -> NoVerdict:
    """A reply cut at max_tokens; ``ignored`` when it had not begun the mode's structure."""
    message = "the verdict was cut off at max_tokens; raise params.max_tokens"
    if ignored:
        message = (
            "the answer was cut off at max_tokens before it began a verdict in this output mode;"
            " raise params.max_tokens or choose another output mode"
        )
    return NoVerdict("truncated", message, ignored=ignored)


def with_text_format(messages: list[Message], scale: Scale) -> list[Message]:
    """The judge messages with the ``text``-mode answer format appended to the system turn."""
    fmt = modes.text_instructions(scale)
    out: list[Message] = []
    for m in messages:
        if m["role"] == "system":
            out.append({"role": "system", "content": m["content"] + "\n\n" + fmt})
        else:
            out.append(m)
    if not any(m["role"] == "system" for m in messages):
        out.insert(0, {"role": "system", "content": fmt})
    return out


def quiet_instructor() -> None:
    """instructor logs every failed attempt at ERROR; with no handler configured Python would
    print them to stderr. Verdict errors are recorded per case instead, so add a NullHandler
    (once); an application's own logging configuration still receives the records."""
    log = logging.getLogger("instructor")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())


def usage_of(response: Any) -> tuple[int, int, int, int]:
    """Input (all of it, cached included), output, cache-read and cache-write tokens of an
    Anthropic or OpenAI response; the one rule lives in
    :func:`evalkit.execution.provider._common.usage`."""
    return _common.usage_counts(getattr(response, "usage", None))


def refused(completion: Any) -> bool:
    """Whether the last answer was a refusal (Anthropic stop reason, OpenAI refusal field)."""
    if completion is None:
        return False
    if getattr(completion, "stop_reason", None) == "refusal":
        return True
    choices = getattr(completion, "choices", None) or []
    if choices:
        choice = choices[0]
        message = getattr(choice, "message", None)
        if getattr(message, "refusal", None) or choice.finish_reason == "content_filter":
            return True
    return False
