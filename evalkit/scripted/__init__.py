"""A scripted model: a loopback server speaking the Anthropic and OpenAI wire formats.

It ships in the package so users can test their own suites offline, through the very SDK
clients a real run uses::

    from evalkit.scripted import ScriptedServer

    with ScriptedServer("tests/script.yaml") as server:
        client = anthropic.AsyncAnthropic(base_url=server.url, api_key="x")
        ...
        assert server.count(case="refund-late-order") == 1

The script format is documented in :mod:`evalkit.scripted.script`.
"""

from __future__ import annotations

from evalkit.scripted.script import Fault, Reply, Rule, Script, When, load_script
from evalkit.scripted.server import RecordedRequest, ScriptedServer

__all__ = [
    "Fault",
    "RecordedRequest",
    "Reply",
    "Rule",
    "Script",
    "ScriptedServer",
    "When",
    "load_script",
]
