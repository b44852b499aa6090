"""The scripted server's HTTP side: route each request (the two wire formats, both batch APIs,
OpenAI's files), answer it from the script (faults, latency, profiles) and send it back."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from evalkit.scripted import profiles as _profiles
from evalkit.scripted import wire as _wire
from evalkit.scripted.script import Answer, Fault, Incoming, ReplyFields
from evalkit.scripted.state import RecordedRequest, ServerState

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


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True
    state: ServerState

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (timeouts, drops) are expected here; stay quiet."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one write when the handler flushes
    timeout = 120  # idle keep-alive connections release their thread eventually
    server: HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """No per-request logging: the request log is ``ScriptedServer.requests``."""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        store = self.server.state.batches
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
        state = self.server.state
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
            state.record(RecordedRequest(path, wire, body, context, status, fault, rule))

        if path == _FILES and self._authorized():
            status, reply = state.batches.create_file(raw, self.headers.get("content-type", ""))
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
            store = state.batches
            if path == _BATCHES:
                render = partial(self._success_body, "anthropic")
                status, reply = store.create(body, render, self._base_url())
            else:
                status, reply = store.create_openai(body, partial(self._success_body, "openai"))
            record(status, None)
            if status == 200 and store.create_delay_s:
                state.stopping.wait(store.create_delay_s)  # the batch exists; its id is late
            if status != 200:
                return self._send_error(wire, status, str(reply.get("message")))
            return self._send(200, json.dumps(reply).encode())

        admission = state.in_flight.admit(wire)
        if not admission.admitted:
            state.record(RecordedRequest(path, wire, body, context, 429, "rate_limit"))
            return self._send_error(wire, 429, admission.reason, admission.headers)
        # no longer in flight once the answer is on its way (the client may send its next
        # request the moment it has read this one)
        self._leave: Callable[[], None] | None = state.in_flight.leave
        try:
            self._answer(wire, body, context, record, admission.headers)
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
        state = self.server.state
        parsed = _wire.parse_request(wire, body)
        answer = state.scripter.answer(
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
        if answer.latency_s and state.stopping.wait(answer.latency_s):
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
            if self.server.state.stopping.wait(fault.hang) or reply is None:
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
        state = self.server.state
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
        served = _profiles.apply(state.profile, parsed, served, state.prompt_cache)
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
