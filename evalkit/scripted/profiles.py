"""Compatibility profiles: the scripted server answering the way real servers do.

evalkit was tried against llama.cpp's ``llama-server``; what broke there is reproduced here so
it stays fixed without a real server in CI. A profile changes how a scripted reply is served,
never which reply is chosen:

* ``llama-server``: the object form of ``tool_choice`` (a named tool, as instructor forces it)
  is ignored, as is a ``response_format`` schema: the model's answer comes back as plain text
  (a ``json`` reply as its JSON text), never as a tool call;
* ``truncating``: an answer longer than the request's ``max_tokens`` (about 4 characters per
  token) is cut there with ``finish_reason: length`` / ``stop_reason: max_tokens``;
* ``rambling-tools``: a tiny model on llama-server: asked for a tool call, it ignores the tool
  and writes prose until ``max_tokens`` (no tool call, ``finish_reason: length`` /
  ``stop_reason: max_tokens``); requests without tools get the scripted reply as usual;
* ``anthropic-cache``: the system prompt is served from a prompt cache: written the first time
  it is seen (``cache_creation_input_tokens``), read afterwards (``cache_read_input_tokens``);
  ``input_tokens`` is only the uncached rest, as Anthropic reports it (OpenAI wire:
  ``prompt_tokens_details.cached_tokens``).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Literal

from evalkit.scripted import wire as _wire

Profile = Literal["llama-server", "truncating", "rambling-tools", "anthropic-cache"]
CHARS_PER_TOKEN = 4
#: what ``rambling-tools`` writes instead of a tool call (no JSON, no verdict tag)
RAMBLE = "Let me think about this step by step, starting with what the question asks. "
#: where ``rambling-tools`` cuts a request that gives no max_tokens
RAMBLE_TOKENS = 64


@dataclass
class Served:
    """How one reply goes out: body text or object, and what its usage says."""

    text: str | None
    obj: Any
    as_tool: bool
    truncated: bool
    usage: tuple[int, int]
    cache: tuple[int, int] = (0, 0)


class PromptCache:
    """The system prompts seen so far (thread-safe), for the ``anthropic-cache`` profile."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def hit(self, system: str) -> bool:
        """Whether ``system`` was cached already; caches it either way."""
        with self._lock:
            seen = system in self._seen
            self._seen.add(system)
            return seen


def tokens(chars: int) -> int:
    return max(1, chars // CHARS_PER_TOKEN)


def apply(
    profile: Profile | None, req: _wire.ParsedRequest, served: Served, cache: PromptCache
) -> Served:
    """``served`` as a server of ``profile`` would send it (unchanged without a profile)."""
    if profile == "llama-server" and served.as_tool and req.tool_choice_object:
        served.as_tool = False  # tool_choice {type/function: name} ignored: plain text
    elif profile == "truncating" and req.max_tokens is not None:
        body = served.text if served.text is not None else json.dumps(served.obj)
        limit = req.max_tokens * CHARS_PER_TOKEN
        if len(body) > limit:
            served.text, served.obj, served.as_tool = body[:limit], None, False
            served.truncated = True
            served.usage = (served.usage[0], req.max_tokens)
    elif profile == "rambling-tools" and req.structured == "tool":
        limit = req.max_tokens or RAMBLE_TOKENS
        text = RAMBLE * (limit * CHARS_PER_TOKEN // len(RAMBLE) + 1)
        served.text, served.obj, served.as_tool = text[: limit * CHARS_PER_TOKEN], None, False
        served.truncated = True
        served.usage = (served.usage[0], limit)
    elif profile == "anthropic-cache" and req.system_text:
        system = tokens(len(req.system_text))
        rest = max(1, served.usage[0] - system)
        hit = cache.hit(req.system_text)
        served.usage = (rest, served.usage[1])
        served.cache = (system, 0) if hit else (0, system)
    return served
