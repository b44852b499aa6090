"""User-written regexes run under a time limit, so one catastrophic pattern cannot hang a run.

A pattern like ``(a|aa)+$`` backtracks exponentially: with Python's ``re`` it hangs the run on a
40-character output and holds the interpreter, so Ctrl-C waits too. User patterns (``regex``,
``json-path`` ``matches``, ``citations`` ``pattern``, ``no-pii`` ``patterns``) are compiled with
the ``regex`` package in its ``re``-compatible mode (V0) and matched with ``timeout=``: a match
that runs out of time raises :class:`RegexTimeout`, which the check turns into an *error*
outcome with the reason. Built-in patterns (reviewed, linear) stay on ``re``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import regex

#: CPU seconds one match of a user pattern may take (the regex package counts process CPU
#: time, so a loaded machine does not cause spurious timeouts). A sane pattern needs
#: milliseconds even on megabytes; this also bounds how long Ctrl-C waits for a match.
REGEX_TIMEOUT_S = 0.5

REGEX_FLAGS = {
    "i": regex.IGNORECASE,
    "m": regex.MULTILINE,
    "s": regex.DOTALL,
    "x": regex.VERBOSE,
    "a": regex.ASCII,
}

Pattern = regex.Pattern[str]
Match = regex.Match[str]


class RegexTimeout(Exception):
    """A user pattern did not finish within :data:`REGEX_TIMEOUT_S` (catastrophic backtracking)."""

    def __init__(self, pattern: str, length: int) -> None:
        super().__init__(
            f"regex /{pattern}/ timed out after {REGEX_TIMEOUT_S:g} s CPU on a {length:,}-"
            "character text (catastrophic backtracking? simplify nested quantifiers like (a+)+)"
        )


@lru_cache(maxsize=1024)
def compile_regex(pattern: str, flags: str = "") -> Pattern:
    """Compile at config load; ``ValueError`` (→ file:line error) on an invalid pattern."""
    bits = regex.VERSION0
    for flag in flags:
        bits |= REGEX_FLAGS[flag]
    try:
        return regex.compile(pattern, bits)
    except regex.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None


def search(pattern: Pattern, text: str) -> Match | None:
    """``pattern.search(text)`` within the time limit."""
    try:
        return pattern.search(text, timeout=REGEX_TIMEOUT_S)
    except TimeoutError:
        raise RegexTimeout(pattern.pattern, len(text)) from None


def finditer(pattern: Pattern | re.Pattern[str], text: str) -> list[Match] | list[re.Match[str]]:
    """Every match, within the time limit for a user pattern (built-in ``re`` ones run as is)."""
    if isinstance(pattern, re.Pattern):
        return list(pattern.finditer(text))
    try:
        return list(pattern.finditer(text, timeout=REGEX_TIMEOUT_S))
    except TimeoutError:
        raise RegexTimeout(pattern.pattern, len(text)) from None
