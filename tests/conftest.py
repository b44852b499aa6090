"""Shared fixtures: tiny evalkit projects written into tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from evalkit.scripted import ScriptedServer

#: tests/cli/test_pytest_plugin.py runs pytest inside pytest
pytest_plugins = ["pytester"]

CONFIG = """\
suites:
  demo:
    goldens: goldens/demo.yaml
    target:
      provider: scripted
      model: fake-model
      prompt: prompts/p.yaml
      script: script.yaml
      params: {temperature: 0, max_tokens: 64}
    checks:
      - {type: contains, value: "ok"}
    concurrency: 4
"""

GOLDENS = """\
- id: a
  vars: {question: "first?"}
  tags: [t1]
- id: b
  vars: {question: "second?"}
  tags: [t2]
- id: c
  vars: {question: "third?"}
  tags: [t1]
"""

PROMPT = """\
label: v1
system: "You answer briefly."
user: "Q: {{ question }}"
"""

SCRIPT = """\
default: {text: "ok fine"}
responses:
  - when: {case: b}
    text: "nope"
"""

MakeProject = Callable[[dict[str, str | None] | None], Path]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write a project; ``files`` overrides files by relative path (None leaves one out)."""

    def make(files: dict[str, str | None] | None = None) -> Path:
        base: dict[str, str | None] = {
            "evalkit.yaml": CONFIG,
            "goldens/demo.yaml": GOLDENS,
            "prompts/p.yaml": PROMPT,
            "script.yaml": SCRIPT,
        }
        base.update(files or {})
        for rel, text in base.items():
            if text is None:
                continue
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return tmp_path

    return make


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, Any]], ScriptedServer]]:
    """Start a ScriptedServer for a script dict; stopped after the test."""
    from evalkit.scripted import ScriptedServer

    servers: list[ScriptedServer] = []

    def start(script: dict[str, Any]) -> ScriptedServer:
        server = ScriptedServer(script).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def exit_code() -> Callable[[list[str]], int]:
    """Run ``evalkit ARGV`` in-process (``evalkit.cli.main``) and return its exit code."""
    from evalkit.cli import main

    def run(argv: list[str]) -> int:
        try:
            main(argv)
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    return run


Cli = Callable[[list[str]], tuple[int, str, str]]


@pytest.fixture
def cli(exit_code: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``evalkit ARGV`` in-process; returns (exit code, stdout, stderr)."""

    def run(argv: list[str]) -> tuple[int, str, str]:
        code = exit_code(argv)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def closed_url() -> str:
    """A loopback URL nothing listens on (connection refused); its port is free to reuse."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
