"""``provider: scripted``: a real SDK provider pointed at a loopback :class:`ScriptedServer`.

Going through the real Anthropic or OpenAI provider (not a fake in-process one) means the
scripted model exercises everything a real run does: the SDK, HTTP, error mapping, timeouts and
the retry policy. One server is started per script path and shared by every provider in the
process (a target and its judges, several suites); it stops when the last one is closed, or at
interpreter exit. With ``base_url`` set, an already-running server is used instead (another
process can then count the requests it saw).
"""

from __future__ import annotations

import atexit
import threading
from pathlib import Path
from typing import Any

from evalkit.base.exceptions import InputError
from evalkit.execution.provider._sdk import SDKProvider
from evalkit.execution.provider.anthropic import AnthropicProvider
from evalkit.execution.provider.openai import OpenAIProvider
from evalkit.model.provider import CallContext, Completion, Message, TargetSpec
from evalkit.scripted import ScriptedServer

#: the scripted server accepts any key; the SDKs insist on sending one
SCRIPTED_KEY = "scripted-no-key"
DEFAULT_MODEL = "scripted"

_lock = threading.Lock()
_shared: dict[Path, tuple[ScriptedServer, int]] = {}


def _acquire(path: Path) -> ScriptedServer:
    with _lock:
        server, users = _shared.get(path, (None, 0))
        if server is None:
            server = ScriptedServer(path).start()
        _shared[path] = (server, users + 1)
        return server


def _release(path: Path) -> None:
    with _lock:
        server, users = _shared[path]
        if users > 1:
            _shared[path] = (server, users - 1)
            return
        del _shared[path]
    server.stop()


@atexit.register
def _stop_all() -> None:
    with _lock:
        servers = [server for server, _ in _shared.values()]
        _shared.clear()
    for server in servers:
        server.stop()


class ScriptedProvider:
    """Delegates to the ``wire``'s provider with context headers on, so rules can match
    per case, prompt version and purpose."""

    name = "scripted"

    def __init__(self, spec: TargetSpec) -> None:
        if not spec.script and not spec.base_url:
            raise InputError("provider 'scripted' needs 'script: <file>'", field="target.script")
        self._path: Path | None = None
        self.server: ScriptedServer | None = None
        base_url = spec.base_url
        if base_url is None:
            self._path = Path(str(spec.script)).resolve()
            self.server = _acquire(self._path)
            base_url = self.server.url if spec.wire == "anthropic" else self.server.openai_base_url
        inner = TargetSpec(
            provider=spec.wire,
            model=spec.model or DEFAULT_MODEL,
            params=spec.params,
            base_url=base_url,
            timeout=spec.timeout,
        )
        wire = AnthropicProvider if spec.wire == "anthropic" else OpenAIProvider
        #: the real SDK provider pointed at the server (judges reuse its client)
        self.delegate: SDKProvider = wire(inner, api_key=SCRIPTED_KEY, send_context_headers=True)

    async def prepare(self) -> None:
        """Warm up the delegate SDK client."""
        await self.delegate.prepare()

    async def complete(
        self, messages: list[Message], params: dict[str, Any], ctx: CallContext
    ) -> Completion:
        """One request to the scripted server through the real SDK."""
        return await self.delegate.complete(messages, params, ctx)

    async def complete_tools(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        params: dict[str, Any],
        ctx: CallContext,
    ) -> Completion:
        """One conversation turn with tools, through the real SDK."""
        return await self.delegate.complete_tools(messages, tools, params, ctx)

    async def aclose(self) -> None:
        """Close the SDK client; stop the shared server if this was its last user."""
        await self.delegate.aclose()
        path, self._path = self._path, None
        if path is not None:
            _release(path)
