"""A loopback HTTP server that answers Anthropic and OpenAI requests from a script.

The real SDK clients are pointed at it through ``base_url``, so tests and the demo exercise the
same code path as a real run (auth headers, error envelopes, timeouts, dropped connections)
without monkeypatching anything. Stdlib only: a ``ThreadingHTTPServer`` with HTTP/1.1
keep-alive serves concurrency 50 at 50 ms latency without being the bottleneck.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from evalkit.scripted import profiles as _profiles
from evalkit.scripted import wire as _wire
from evalkit.scripted.batches import BatchStore
from evalkit.scripted.ratelimit import InFlight
from evalkit.scripted.script import (
    Answer,
    Fault,
    Incoming,
    ReplyFields,
    Script,
    Scripter,
    coerce_script,
)

_ROUTES: dict[str, _wire.Wire] = {
    "/v1/messages": "anthropic",
    "/messages": "anthropic",
    "/v1/chat/completions": "openai",
    "/chat/completions": "openai",
}
_BATCHES = "/v1/messages/batches"
_OPENAI_BATCHES = "/v1/batches"
_FILES = "/v1/files"
_CONTEXT = {
    "x-evalkit-case": "case",
    "x-evalkit-prompt-version": "prompt_version",
    "x-evalkit-prompt-label": "prompt_label",
    "x-evalkit-repeat": "repeat",
    "x-evalkit-purpose": "purpose",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it; auth headers are never kept."""

    path: str
    wire: str | None
    body: Any
    context: dict[str, str] = field(default_factory=dict)
    #: status sent back; None when the connection was dropped without a reply
    status: int | None = None
    fault: str | None = None
    rule: int | None = None


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
        self.script = coerce_script(script)
        self.profile: _profiles.Profile | None = profile or self.script.profile
        self._prompt_cache = _profiles.PromptCache()
        self._scripter = Scripter(self.script)
        self._in_flight = InFlight(self.script.rate_limit)
        #: Anthropic Message Batches submitted to this server
        self.batches = BatchStore(
            self._scripter, self.script.batch_delay_ms, self.script.batch_create_delay_ms
        )
        self._address = (host, port)
        self._log: list[RecordedRequest] = []
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ScriptedServer:
        """Bind and serve in a daemon thread; returns self for chaining."""
        if self._httpd is None:
            self._stopping.clear()
            self._httpd = _HTTPServer(self._address, _Handler)
            self._httpd.owner = self
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
        self._stopping.set()
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
        with self._log_lock:
            return list(self._log)

    def count(self, case: str | None = None, purpose: str | None = None) -> int:
        """Requests received, optionally only those for one case and/or purpose."""
        return sum(
            1
            for r in self.requests
            if (case is None or r.context.get("case") == case)
            and (purpose is None or r.context.get("purpose", "target") == purpose)
        )

    def _record(self, entry: RecordedRequest) -> None:
        with self._log_lock:
            self._log.append(entry)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True
    owner: ScriptedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (timeouts, drops) are expected here; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one write when the handler flushes
    timeout = 120  # idle keep-alive connections release their thread eventually
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """No per-request logging: the request log is ``ScriptedServer.requests``."""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        store = self.server.owner.batches
        if path in (_BATCHES, _OPENAI_BATCHES) and self._authorized():
            listed = store.list(self._base_url()) if path == _BATCHES else store.list_openai()
            return self._send(200, json.dumps(listed).encode())
        if path.startswith(_BATCHES + "/") and self._authorized():
            batch_id, _, rest = path[len(_BATCHES) + 1 :].partition("/")
            if rest == "results":
                status, raw = store.results(batch_id)
                if status == 200:
                    return self._send(status, raw)
            elif not rest:
                status, body = store.retrieve(batch_id, self._base_url())
                if status == 200:
                    return self._send(200, json.dumps(body).encode())
        if path.startswith(_OPENAI_BATCHES + "/") and self._authorized():
            status, body = store.retrieve_openai(path[len(_OPENAI_BATCHES) + 1 :])
            if status == 200:
                return self._send(200, json.dumps(body).encode())
        if path.startswith(_FILES + "/") and path.endswith("/content") and self._authorized():
            status, raw = store.file_content(path[len(_FILES) + 1 : -len("/content")])
            if status == 200:
                return self._send(200, raw)
        self._send_error(self._route(), 404, f"no such endpoint: GET {self.path}")

    def _base_url(self) -> str:
        host = self.headers.get("host") or f"127.0.0.1:{self.server.server_address[1]}"
        return f"http://{host}"

    def _authorized(self) -> bool:
        return bool(self.headers.get("x-api-key") or self.headers.get("authorization"))

    def do_POST(self) -> None:
        owner = self.server.owner
        path = urlsplit(self.path).path.rstrip("/")
        wire = self._route()
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        context = {
            name: unquote(self.headers[header])
            for header, name in _CONTEXT.items()
            if self.headers.get(header) is not None
        }

        def record(status: int | None, body: Any, answer: Answer | None = None) -> None:
            fault = answer.fault.label if answer and answer.fault else None
            rule = answer.rule if answer else None
            owner._record(RecordedRequest(path, wire, body, context, status, fault, rule))

        if path == _FILES and self._authorized():
            status, reply = owner.batches.create_file(raw, self.headers.get("content-type", ""))
            record(status, None)
            if status != 200:
                return self._send_error("openai", status, str(reply.get("message")))
            return self._send(200, json.dumps(reply).encode())
        if path not in _ROUTES and path not in (_BATCHES, _OPENAI_BATCHES):
            record(404, None)
            return self._send_error(wire, 404, f"no such endpoint: POST {path}")
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            record(400, None)
            return self._send_error(wire, 400, "request body must be a JSON object")
        if not (self.headers.get("x-api-key") or self.headers.get("authorization")):
            record(401, body)
            return self._send_error(wire, 401, "missing API key (x-api-key or Authorization)")
        if path in (_BATCHES, _OPENAI_BATCHES):
            store = owner.batches
            if path == _BATCHES:
                render = partial(self._success_body, "anthropic")
                status, reply = store.create(body, render, self._base_url())
            else:
                status, reply = store.create_openai(body, partial(self._success_body, "openai"))
            record(status, None)
            if status == 200 and store.create_delay_s:
                owner._stopping.wait(store.create_delay_s)  # the batch exists; its id is late
            if status != 200:
                return self._send_error(wire, status, str(reply.get("message")))
            return self._send(200, json.dumps(reply).encode())

        remaining = owner._in_flight.enter()
        if remaining is None:
            owner._record(RecordedRequest(path, wire, body, context, 429, "rate_limit"))
            headers = owner._in_flight.refusal_headers(wire)
            return self._send_error(wire, 429, "too many requests in flight", headers)
        # no longer in flight once the answer is on its way (the client may send its next
        # request the moment it has read this one)
        self._leave: Callable[[], None] | None = owner._in_flight.leave
        try:
            self._answer(wire, body, context, record, owner._in_flight.headers(wire, remaining))
        finally:
            self._left()

    def _left(self) -> None:
        leave, self._leave = getattr(self, "_leave", None), None
        if leave is not None:
            leave()

    def _answer(
        self,
        wire: _wire.Wire,
        body: dict[str, Any],
        context: dict[str, str],
        record: Callable[..., None],
        headers: dict[str, str],
    ) -> None:
        owner = self.server.owner
        parsed = _wire.parse_request(wire, body)
        answer = owner._scripter.answer(
            Incoming(
                model=parsed.model,
                user_text=parsed.user_text,
                case=context.get("case"),
                prompt_version=context.get("prompt_version"),
                prompt_label=context.get("prompt_label"),
                purpose=context.get("purpose"),
                turn=parsed.turn,
            )
        )
        record(_status_of(answer), body, answer)
        if answer.latency_s and owner._stopping.wait(answer.latency_s):
            return self._hang_up()
        if answer.fault is not None:
            return self._serve_fault(wire, answer.fault, parsed, answer.reply)
        if answer.reply is None:
            who = ", ".join(f"{k}={v}" for k, v in context.items()) or "no context headers"
            return self._send_error(wire, 404, f"no scripted reply matches ({who})")
        return self._send(200, self._success_body(wire, parsed, answer.reply), headers)

    def _serve_fault(
        self,
        wire: _wire.Wire,
        fault: Fault,
        parsed: _wire.ParsedRequest,
        reply: ReplyFields | None,
    ) -> None:
        if fault.drop:
            return self._hang_up()
        if fault.malformed:
            return self._send(200, _wire.malformed_body(wire))
        if fault.hang is not None:
            if self.server.owner._stopping.wait(fault.hang) or reply is None:
                return self._hang_up()
            return self._send(200, self._success_body(wire, parsed, reply))
        headers = {}
        if fault.retry_after is not None:
            headers["retry-after"] = f"{fault.retry_after:g}"
        if fault.retry_after_ms is not None:
            headers["retry-after-ms"] = f"{fault.retry_after_ms:g}"
        status = fault.status or 500
        message = fault.message or f"scripted fault {fault.label}"
        return self._send_error(wire, status, message, headers)

    def _success_body(
        self, wire: _wire.Wire, parsed: _wire.ParsedRequest, reply: ReplyFields
    ) -> bytes:
        owner = self.server.owner
        if reply.tool_calls:  # an agent calling tools: served as scripted, no profile applies
            calls = [(c.name, c.arguments) for c in reply.tool_calls]
            tokens = reply.usage or None
            usage = (
                (tokens.input_tokens, tokens.output_tokens)
                if tokens
                else (_profiles.tokens(parsed.input_chars), _profiles.tokens(len(str(calls))))
            )
            payload = _wire.reply_body(
                wire,
                parsed,
                text=reply.text,
                obj=None,
                usage=usage,
                truncated=reply.finish_reason == "length",
                tool_calls=calls,
            )
            return json.dumps(payload, ensure_ascii=False).encode()
        obj = reply.json_ if reply.text is None else None
        out = reply.text if reply.text is not None else json.dumps(obj, ensure_ascii=False)
        given = reply.usage
        served = _profiles.Served(
            text=reply.text,
            obj=obj,
            as_tool=parsed.structured == "tool",
            truncated=reply.finish_reason == "length",
            usage=(given.input_tokens, given.output_tokens)
            if given
            else (_profiles.tokens(parsed.input_chars), _profiles.tokens(len(out))),
            cache=(given.cache_read_input_tokens, given.cache_creation_input_tokens)
            if given
            else (0, 0),
        )
        served = _profiles.apply(owner.profile, parsed, served, owner._prompt_cache)
        payload = _wire.reply_body(
            wire,
            parsed,
            text=served.text,
            obj=served.obj,
            usage=served.usage,
            truncated=served.truncated,
            cache=served.cache,
            as_tool=served.as_tool,
        )
        try:
            return json.dumps(payload, ensure_ascii=False).encode()
        except UnicodeEncodeError:  # a lone surrogate in the script: send it escaped, valid JSON
            return json.dumps(payload).encode()

    def _route(self) -> _wire.Wire:
        path = urlsplit(self.path).path.rstrip("/")
        return _ROUTES.get(path, "openai" if "chat" in path else "anthropic")

    def _send_error(
        self, wire: _wire.Wire, status: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(_wire.error_body(wire, status, message)).encode()
        self._send(status, body, headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self._left()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (timeout) or hung up
            self.close_connection = True

    def _hang_up(self) -> None:
        self.close_connection = True


def _status_of(answer: Answer) -> int | None:
    """The status a request will get, for the log (None: the connection is dropped)."""
    fault = answer.fault
    if fault is not None:
        return None if fault.drop else fault.status or 200
    return 200 if answer.reply is not None else 404
