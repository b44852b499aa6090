"""Shared fixtures: tiny evalkit projects written into tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

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
