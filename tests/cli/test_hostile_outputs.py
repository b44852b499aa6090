"""Hostile outputs through both wire formats into every output: nothing executes or breaks.

The scripted server answers each case with one text of :data:`tests.hostile.HOSTILE` (and the
judge reasons with it), through the real Anthropic and OpenAI SDK clients. Then every command
that shows outputs runs as a user would run it (a subprocess): ``run``, ``report``, ``compare``
(terminal, markdown, JUnit, JSON), ``ci`` (terminal, summary.md, summary.json, junit.xml, the
GitHub step summary) and ``label``. Every rendering is checked by :mod:`tests.hostile`, and the
stored record keeps each output exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from evalkit.model.outcome import Outcome
from evalkit.scripted import ScriptedServer
from evalkit.storage.store import load_run
from tests.hostile import (
    HOSTILE,
    assert_markdown_safe,
    assert_not_whole,
    assert_terminal_safe,
    assert_xml_safe,
)

#: a golden-set id is hostile too (a pull request writes the golden set)
HOSTILE_ID = "id [/INST] <b>|x</b> `y` #z"
CORPUS = HOSTILE


def _case_id(name: str) -> str:
    return HOSTILE_ID if name == "rich-markup" else name


def _config(wire: str, url: str) -> dict[str, object]:
    return {
        "suites": {
            "demo": {
                "goldens": "goldens/demo.yaml",
                "target": {
                    "provider": "scripted",
                    "model": "fake-model",
                    "prompt": "prompts/v2.yaml",
                    "base_url": url,
                    "wire": wire,
                    "params": {"max_tokens": 64},
                },
                "checks": [{"type": "contains", "value": "ok"}],
                "judges": ["tone"],
                "concurrency": 4,
                "gate": {"min_pass_rate": 0.5, "fail_on": "any-regression"},
            }
        }
    }


def _script(corpus: dict[str, str]) -> dict[str, Any]:
    """Target and judge answers: each case's hostile text (as the judge's reasoning too).

    Served from this process (a script *file* is YAML, which cannot hold a lone surrogate)."""
    rules: list[dict[str, Any]] = []
    for n, text in corpus.items():
        when = {"case": _case_id(n), "prompt": "v2"}
        rules.append({"when": {**when, "purpose": "target"}, "text": text})
        rules.append(
            {"when": {**when, "purpose": "judge"}, "json": {"reasoning": text, "passed": False}}
        )
    rules.append({"when": {"purpose": "judge"}, "json": {"reasoning": "fine", "passed": True}})
    return {"default": {"text": "ok fine"}, "responses": rules}


def _write_project(root: Path, wire: str, url: str, corpus: dict[str, str]) -> None:
    files = {
        "evalkit.yaml": _config(wire, url),
        "goldens/demo.yaml": [{"id": _case_id(n), "vars": {"question": n}} for n in corpus],
        "prompts/v1.yaml": {"label": "v1", "user": "Q: {{ question }}"},
        "prompts/v2.yaml": {"label": "v2", "user": "Question: {{ question }}"},
        "judges/tone.yaml": {
            "name": "tone",
            "scale": "binary",
            "model": {"provider": "scripted", "base_url": url, "wire": wire},
            "rubric": "PASS if the reply is polite.",
            "sees": ["question", "output"],
        },
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, allow_unicode=False), encoding="utf-8")


@dataclass
class Shown:
    """Everything the commands showed or wrote, by where it was shown."""

    terminal: dict[str, str] = field(default_factory=dict)
    markdown: dict[str, str] = field(default_factory=dict)
    xml: dict[str, bytes] = field(default_factory=dict)
    json: dict[str, bytes] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)
    head: Path | None = None


def _evalkit(root: Path, shown: Shown, name: str, *args: str, stdin: str = "") -> None:
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(root / "step-summary.md"), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "evalkit", *args],
        cwd=root,
        input=stdin.encode(),
        capture_output=True,
        timeout=300,
        env=env,
    )
    # strict decoding: a lone surrogate or broken escape would fail here
    shown.terminal[name] = done.stdout.decode("utf-8") + done.stderr.decode("utf-8")
    shown.codes[name] = done.returncode


@pytest.fixture(scope="module", params=["anthropic", "openai"])
def shown(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shown]:
    wire = str(request.param)
    root = tmp_path_factory.mktemp(f"hostile-{wire}")
    with ScriptedServer(_script(CORPUS)) as server:
        url = server.url if wire == "anthropic" else server.openai_base_url
        _write_project(root, wire, url, CORPUS)
        yield _show_everything(root)


def _show_everything(root: Path) -> Shown:
    out = Shown()
    _evalkit(root, out, "run base", "run", "demo", "--prompt", "prompts/v1.yaml", "-q")
    _evalkit(root, out, "run", "run", "demo", "-q")
    base, head = sorted(
        (p for p in (root / "runs" / "demo").glob("*/*") if p.is_dir()),
        key=lambda p: json.loads((p / "manifest.json").read_text())["prompt_label"],
    )
    out.head = head
    _evalkit(root, out, "report", "report", str(head))
    _evalkit(
        root, out, "compare", "compare", str(base), str(head),
        "--markdown", "compare.md", "--junit", "compare.xml", "--json", "compare.json",
    )  # fmt: skip
    _evalkit(root, out, "baseline", "baseline", "set", str(base))
    _evalkit(root, out, "ci", "ci", "demo", "--out", "out")
    _evalkit(root, out, "label", "label", str(head), "--judge", "tone", "--n", "20",
             "--seed", "1", "--labeler", "t", stdin="s\n" * 20)  # fmt: skip
    files = {
        "report.md": head / "report.md",
        "compare --markdown": root / "compare.md",
        "ci summary.md": root / "out" / "summary.md",
        "GITHUB_STEP_SUMMARY": root / "step-summary.md",
        "compare --junit": root / "compare.xml",
        "ci junit.xml": root / "out" / "junit.xml",
        "summary.json": head / "summary.json",
        "ci summary.json": root / "out" / "summary.json",
        "compare --json": root / "compare.json",
    }
    for name, path in files.items():  # a missing file fails the test of its medium
        data = path.read_bytes() if path.exists() else b""
        if name.endswith(".md") or name.endswith("markdown") or "SUMMARY" in name:
            out.markdown[name] = data.decode("utf-8")
        elif "junit" in name:
            out.xml[name] = data
        else:
            out.json[name] = data
    return out


def test_commands_finish_with_their_documented_codes(shown: Shown) -> None:
    expected = {"run base": 0, "run": 0, "report": 0, "compare": 0, "baseline": 0, "ci": 1}
    expected["label"] = 0
    assert shown.codes == expected, {k: shown.terminal[k][-3000:] for k in shown.codes}


def test_the_stored_record_keeps_every_output_exactly(shown: Shown) -> None:
    assert shown.head is not None
    outputs = {r.case_id: r.output for r in load_run(shown.head).records}
    assert outputs == {_case_id(n): text for n, text in CORPUS.items()}
    verdicts = {r.case_id: r.judges[0] for r in load_run(shown.head).records}
    # a judge *reply* with a lone surrogate fails instructor's validation: an error outcome
    surrogate = verdicts.pop("surrogate")
    assert surrogate.outcome is Outcome.ERROR and surrogate.error is not None
    assert {k: v.reasoning for k, v in verdicts.items()} == {
        _case_id(n): text for n, text in CORPUS.items() if n != "surrogate"
    }


def test_terminal_output_is_inert(shown: Shown) -> None:
    for name, text in shown.terminal.items():
        assert_terminal_safe(text, name)
        assert_not_whole(text, name)
    # the hostile text is shown, escaped, not dropped
    assert "x1b" in shown.terminal["report"] and "RED" in shown.terminal["report"]
    assert "[/INST]" in shown.terminal["compare"] and "[/INST]" in shown.terminal["ci"]
    label = shown.terminal["label"]
    assert "\\x1b]52;c;" in label and "\\u202e" in label and "more characters)" in label


def test_markdown_outputs_are_inert(shown: Shown) -> None:
    for name, md in shown.markdown.items():
        assert_markdown_safe(md, name)
        assert_not_whole(md, name)
    assert "&lt;script&gt;" in shown.markdown["report.md"]
    assert "&lt;script&gt;" in shown.markdown["ci summary.md"]


def test_junit_xml_parses_and_is_inert(shown: Shown) -> None:
    for name, data in shown.xml.items():
        root = assert_xml_safe(data, name)
        cases = root.findall(".//testcase")
        assert len(cases) == len(CORPUS), name
        assert {c.get("name") for c in cases} == {_case_id(n) for n in CORPUS}
        failures = root.findall(".//failure")
        assert len(failures) == len(CORPUS), name
        text = "\n".join(f.text or "" for f in failures)
        assert "\\x1b[2J" in text and "<script>alert('PWN')</script>" in text
        assert_not_whole(data.decode("utf-8"), name)


def test_json_outputs_parse(shown: Shown) -> None:
    for name, data in shown.json.items():
        assert isinstance(json.loads(data.decode("utf-8")), dict), name
