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


def _cpu_s(pid: int) -> tuple[float, str]:
    """CPU seconds (user + system) a process has used so far, and its state (``Z``: exited),
    from Linux's ``/proc``."""
    # after "pid (comm)" the fields count from 3 (state): utime is field 14, stime field 15
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), fields[0]


def _cpu_when_said(pid: int, stderr: Path, words: str, timeout: float) -> float:
    """The process's CPU seconds when ``words`` first show on its stderr (polled every 10 ms)."""
    deadline = time.monotonic() + timeout
    while True:
        cpu, state = _cpu_s(pid)
        if words in stderr.read_text():
            return cpu
        assert state != "Z", f"it exited without saying {words!r}: {stderr.read_text()}"
        assert time.monotonic() < deadline, f"it did not say {words!r} within {timeout:g} s"
        time.sleep(0.01)


#: CPU seconds a run may spend after Ctrl-C on what is not a regex before it says it stopped:
#: cancelling its tasks, closing clients, writing the manifest, summary and reports (about
#: 0.3 s on an idle machine; more where other processes share the cores and their caches)
_SAVE_CPU_S = 0.75
#: regex checks per case: a run that went on with the case's remaining ones after Ctrl-C would
#: spend up to (this - 1) x REGEX_TIMEOUT_S more
_CHECKS = 6


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc")
def test_ctrl_c_stops_a_run_stuck_in_catastrophic_regexes(
    make_project: MakeProject, tmp_path: Path
) -> None:
    """After Ctrl-C a run finishes at most the match each worker is in (every match of this
    pattern runs to the limit), saves its state and says so: it runs none of the case's
    remaining checks and no further case. Measured in the run's own CPU time up to that
    message: a loaded machine stretches it in wall time but does not change it (the regex
    limit counts CPU time too). The interpreter's exit after it is left out: its final garbage
    collection costs the same whatever the run did, and more the busier the machine."""
    config = yaml.safe_load(CONFIG)
    # several per case: the run must stop after the running match, not after all of them
    config["suites"]["demo"]["checks"] = [{"type": "regex", "pattern": CATASTROPHIC}] * _CHECKS
    concurrency = config["suites"]["demo"]["concurrency"] = 2
    cases = [{"id": f"c{i}", "vars": {"question": "q"}} for i in range(40)]
    root = make_project(
        {
            "evalkit.yaml": yaml.safe_dump(config),
            "goldens/demo.yaml": yaml.safe_dump(cases),
            "script.yaml": yaml.safe_dump({"default": {"text": VICTIM}}),
        }
    )
    err_path = tmp_path / "stderr.txt"
    with err_path.open("w") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "evalkit", "run", "demo", "-q"],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=err_file,
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
        before, _ = _cpu_s(proc.pid)
        proc.send_signal(signal.SIGINT)
        # a run that went on grading would take 40 cases x _CHECKS x 0.5 s: far past this
        stopped = _cpu_when_said(proc.pid, err_path, "stopped run", timeout=60)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = err_path.read_text()
    assert proc.returncode == 3, err
    assert "Ctrl-C stopped run" in err and "--resume" in err  # interrupted, resumable
    after = stopped - before
    # each worker's match in progress at most: the other worker may be scheduled before the
    # cancellation reaches it, and start one more match
    bound = concurrency * REGEX_TIMEOUT_S + _SAVE_CPU_S
    assert after < bound, f"the run spent {after:.2f} s CPU after Ctrl-C (bound {bound:.2f} s)"
