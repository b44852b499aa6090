"""User regexes run under a time limit: a catastrophic pattern is an error, never a hang."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from evalkit.grading.check import CheckContext, parse_check
from evalkit.grading.check._regex import REGEX_TIMEOUT_S, compile_regex
from evalkit.model.golden import Case
from evalkit.model.outcome import Outcome
from tests.conftest import CONFIG, MakeProject

#: exponential backtracking in Python's re and in the regex package alike
CATASTROPHIC = r"^(a|aa)+$"
VICTIM = "a" * 40 + "b"


def _ctx(output: str) -> CheckContext:
    return CheckContext(output=output, case=Case(id="c"))


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "regex", "pattern": CATASTROPHIC},
        {"type": "not-regex", "pattern": CATASTROPHIC},
        {"type": "json-path", "path": "answer", "matches": CATASTROPHIC},
        {"type": "citations", "pattern": CATASTROPHIC},
        {"type": "no-pii", "patterns": [CATASTROPHIC]},
    ],
)
def test_a_catastrophic_pattern_is_an_error_with_a_reason(raw: dict[str, Any]) -> None:
    check = parse_check(raw)
    output = VICTIM if raw["type"] != "json-path" else f'{{"answer": "{VICTIM}"}}'
    start = time.process_time()  # the limit is CPU time: a loaded machine does not skew it
    result = check.evaluate(_ctx(output))
    elapsed = time.process_time() - start
    assert result.outcome is Outcome.ERROR, result
    assert "timed out" in result.reason and CATASTROPHIC in result.reason
    assert REGEX_TIMEOUT_S * 0.9 <= elapsed < REGEX_TIMEOUT_S + 0.5


def test_the_issue_example_finishes() -> None:
    """``(a+)+$`` on 30 characters hangs Python's re; here it is graded at once."""
    result = parse_check({"type": "regex", "pattern": r"(a+)+$"}).evaluate(_ctx("a" * 30 + "!"))
    assert result.outcome is Outcome.FAIL


@pytest.mark.parametrize(
    ("pattern", "flags", "text"),
    [
        (r"order #\d{6}", "i", "Your ORDER #482913 is closed"),
        (r"^total:\s*(\d+)$", "m", "header\ntotal: 42\nfooter"),
        (r"a.b", "s", "a\nb"),
        (r"(?P<word>\w+)\s+(?P=word)", "", "it is is doubled"),
        (r"(?<=\$)\d+(?:\.\d\d)?", "", "costs $19.99 today"),
        (r"\w+", "a", "café au lait"),
        (r" x  # spaced\n + y", "x", "xxy"),
        (r"[^\W\d_]+", "", "abc123déf"),
    ],
)
def test_matches_like_python_re(pattern: str, flags: str, text: str) -> None:
    bits = 0
    for f in flags:
        bits |= {"i": re.I, "m": re.M, "s": re.S, "x": re.X, "a": re.A}[f]
    ours = compile_regex(pattern, flags).search(text)
    theirs = re.compile(pattern, bits).search(text)
    assert theirs is not None and ours is not None
    assert (ours.group(), ours.span()) == (theirs.group(), theirs.span())


def test_an_invalid_pattern_is_a_load_error() -> None:
    with pytest.raises(ValueError, match="invalid regex"):
        compile_regex("(unclosed")


def _slowdown() -> float:
    """Wall time per CPU second on this machine now (1.0 when idle; more when shared)."""
    wall, cpu = time.monotonic(), time.process_time()
    while time.process_time() - cpu < 0.2:
        pass
    return max(1.0, (time.monotonic() - wall) / (time.process_time() - cpu))


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_stops_a_run_stuck_in_catastrophic_regexes(make_project: MakeProject) -> None:
    config = yaml.safe_load(CONFIG)
    # several per case: the run must stop after the running match, not after all of them
    config["suites"]["demo"]["checks"] = [{"type": "regex", "pattern": CATASTROPHIC}] * 4
    config["suites"]["demo"]["concurrency"] = 2
    cases = [{"id": f"c{i}", "vars": {"question": "q"}} for i in range(40)]
    root = make_project(
        {
            "evalkit.yaml": yaml.safe_dump(config),
            "goldens/demo.yaml": yaml.safe_dump(cases),
            "script.yaml": yaml.safe_dump({"default": {"text": VICTIM}}),
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalkit", "run", "demo", "-q"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 90
        results: list[Path] = []
        while not results and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)  # grading has begun once the first record is written
            results = [p for p in root.glob("runs/demo/*/*/results.jsonl") if p.stat().st_size]
        assert results, "the run never graded a case"
        time.sleep(0.3)  # well inside the next case's regex
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _out, err = proc.communicate(timeout=30)
        stopped_after = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3, err
    assert "--resume" in err  # the run stopped as interrupted, resumable
    # 2 s on an idle machine; on a shared one, 2 s of this process's share of a CPU
    slowdown = _slowdown()
    assert stopped_after < 2.0 * slowdown, f"Ctrl-C took {stopped_after:.2f} s (x{slowdown:.1f})"
