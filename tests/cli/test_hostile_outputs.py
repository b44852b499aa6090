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
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from evalkit.store import load_run
from tests.hostile import (
    HOSTILE,
    assert_markdown_safe,
    assert_not_whole,
    assert_terminal_safe,
    assert_xml_safe,
)

#: a golden-set id is hostile too (a pull request writes the golden set)
HOSTILE_ID = "id [/INST] <b>|x</b> `y` #z"
#: what a run can store on this branch: a lone surrogate crashes the response cache before any
#: output point sees it (fixed on the "runs" branch of issue 11); the renderers handle it, see
#: tests/report/test_hostile_rendering.py, and test_lone_surrogate_end_to_end below
CORPUS = {name: text for name, text in HOSTILE.items() if name != "surrogate"}


def _case_id(name: str) -> str:
    return HOSTILE_ID if name == "rich-markup" else name


def _config(wire: str) -> dict[str, object]:
    return {
        "suites": {
            "demo": {
                "goldens": "goldens/demo.yaml",
                "target": {
                    "provider": "scripted",
                    "model": "fake-model",
                    "prompt": "prompts/v2.yaml",
                    "script": "script.yaml",
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


def _script(corpus: dict[str, str]) -> dict[str, object]:
    rules = [{"when": {"case": _case_id(n), "prompt": "v2"}, "text": t} for n, t in corpus.items()]
    return {"default": {"text": "ok fine"}, "responses": rules}


def _judge_script(corpus: dict[str, str]) -> dict[str, object]:
    rules = [
        {
            "when": {"case": _case_id(n), "prompt": "v2", "purpose": "judge"},
            "json": {"reasoning": text, "passed": False},
        }
        for n, text in corpus.items()
    ]
    return {"default": {"json": {"reasoning": "fine", "passed": True}}, "responses": rules}


def _write_project(root: Path, wire: str, corpus: dict[str, str]) -> None:
    files = {
        "evalkit.yaml": _config(wire),
        "goldens/demo.yaml": [{"id": _case_id(n), "vars": {"question": n}} for n in corpus],
        "prompts/v1.yaml": {"label": "v1", "user": "Q: {{ question }}"},
        "prompts/v2.yaml": {"label": "v2", "user": "Question: {{ question }}"},
        "script.yaml": _script(corpus),
        "judge.yaml": _judge_script(corpus),
        "judges/tone.yaml": {
            "name": "tone",
            "scale": "binary",
            "model": {"provider": "scripted", "script": "judge.yaml", "wire": wire},
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
def shown(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Shown:
    wire = str(request.param)
    root = tmp_path_factory.mktemp(f"hostile-{wire}")
    _write_project(root, wire, CORPUS)
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
    verdicts = {r.case_id: r.judges[0].reasoning for r in load_run(shown.head).records}
    assert verdicts == {_case_id(n): text for n, text in CORPUS.items()}


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


@pytest.mark.xfail(
    reason="needs lossless lone surrogates in the cache and store (the runs branch of issue 11)",
    strict=False,
)
def test_lone_surrogate_end_to_end(tmp_path: Path) -> None:
    corpus = {"surrogate": HOSTILE["surrogate"]}
    _write_project(tmp_path, "openai", corpus)
    out = Shown()
    _evalkit(tmp_path, out, "run base", "run", "demo", "--prompt", "prompts/v1.yaml", "-q")
    _evalkit(tmp_path, out, "run", "run", "demo", "-q")
    runs = sorted(p.parent for p in tmp_path.glob("runs/demo/*/*/manifest.json"))
    head = next(
        p for p in runs if json.loads((p / "manifest.json").read_text())["prompt_label"] == "v2"
    )
    base = next(p for p in runs if p != head)
    _evalkit(tmp_path, out, "report", "report", str(head))
    _evalkit(tmp_path, out, "compare", "compare", str(base), str(head), "--junit", "j.xml",
             "--markdown", "c.md", "--json", "c.json")  # fmt: skip
    assert out.codes == {"run base": 0, "run": 0, "report": 0, "compare": 0}, out.terminal
    assert [r.output for r in load_run(head).records] == [HOSTILE["surrogate"]]
    for name, text in out.terminal.items():
        assert_terminal_safe(text, name)
    assert "\\ud800" in out.terminal["report"]
    assert_markdown_safe((tmp_path / "c.md").read_text("utf-8"), "compare --markdown")
    assert_xml_safe((tmp_path / "j.xml").read_bytes(), "compare --junit")
    assert json.loads((tmp_path / "c.json").read_text("utf-8"))["cases"]
