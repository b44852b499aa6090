"""Scrub secrets from text before it is stored, logged or shown."""

from __future__ import annotations

import os
import re

_PATTERNS = [
    re.compile(r"(sk-ant-[A-Za-z0-9_\-]{6,})"),
    re.compile(r"(sk-[A-Za-z0-9_\-]{16,})"),
    re.compile(r"(?i)(authorization\s*[:=]\s*)(bearer\s+)?[^\s,'\"}]+"),
    re.compile(r"(?i)(x-api-key\s*[:=]\s*)[^\s,'\"}]+"),
    re.compile(r"(?i)(api[_-]?key\s*[:=]\s*)['\"]?[^\s,'\"}]+"),
]
_ENV_KEYS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY")


def redact(text: str) -> str:
    """Replace anything that looks like a credential with ``[REDACTED]``."""
    for name in _ENV_KEYS:
        value = os.environ.get(name)
        if value and len(value) >= 8:
            text = text.replace(value, "[REDACTED]")
    for pattern in _PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: m.group(1) + "[REDACTED]", text)
        else:
            text = pattern.sub("[REDACTED]", text)
    return text
