"""A loopback HTTP server that answers Anthropic and OpenAI requests from a script.

The real SDK clients are pointed at it through ``base_url``, so tests and the demo exercise the
same code path as a real run (auth headers, error envelopes, timeouts, dropped connections)
without monkeypatching anything. Stdlib only: a ``ThreadingHTTPServer`` with HTTP/1.1
keep-alive serves concurrency 50 at 50 ms latency without being the bottleneck. This module
starts and stops it; :mod:`evalkit.scripted.handler` answers the requests and
:mod:`evalkit.scripted.state` holds what they share.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from evalkit.scripted import profiles as _profiles
from evalkit.scripted.batches import BatchStore
from evalkit.scripted.handler import Handler, HTTPServer
from evalkit.scripted.script import Script, coerce_script
from evalkit.scripted.state import RecordedRequest, ServerState

__all__ = ["RecordedRequest", "ScriptedServer"]


class ScriptedServer:
    """Serve ``script`` on ``127.0.0.1`` (an ephemeral port unless ``port`` is given).

    ``url`` is the Anthropic ``base_url``; ``openai_base_url`` adds ``/v1``. Use it as a context
    manager, or call :meth:`start` and :meth:`stop`. ``profile`` (else the script's own) makes
    it answer like a real server (:mod:`evalkit.scripted.profiles`).
    """

    def __init__(
        self,
        script: Script | dict[str, Any] | str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        profile: _profiles.Profile | None = None,
    ) -> None:
        script = coerce_script(script)
        self._state = ServerState(script, profile or script.profile)
        self._address = (host, port)
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def script(self) -> Script:
        return self._state.script

    @property
    def profile(self) -> _profiles.Profile | None:
        """How it answers (:mod:`evalkit.scripted.profiles`); None: as scripted."""
        return self._state.profile

    @profile.setter
    def profile(self, profile: _profiles.Profile | None) -> None:
        self._state.profile = profile

    @property
    def batches(self) -> BatchStore:
        """Anthropic Message Batches and OpenAI batches submitted to this server."""
        return self._state.batches

    def start(self) -> ScriptedServer:
        """Bind and serve in a daemon thread; returns self for chaining."""
        if self._httpd is None:
            self._state.stopping.clear()
            self._httpd = HTTPServer(self._address, Handler)
            self._httpd.state = self._state
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="evalkit-scripted-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests still hanging are released at once."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._state.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the scripted server is not running; call start()")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL for the Anthropic SDK (which appends ``/v1/messages``)."""
        return f"http://{self._address[0]}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """Base URL for the OpenAI SDK (which appends ``/chat/completions``)."""
        return self.url + "/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        return self._state.requests()

    def count(self, case: str | None = None, purpose: str | None = None) -> int:
        """Requests received, optionally only those for one case and/or purpose."""
        return sum(
            1
            for r in self.requests
            if (case is None or r.context.get("case") == case)
            and (purpose is None or r.context.get("purpose", "target") == purpose)
        )
