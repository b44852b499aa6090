"""`evalkit run` as a user runs it: a subprocess killed or interrupted mid-way, then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from evalkit.cli import main
from evalkit.scripted import ScriptedServer
from evalkit.storage.store import read_manifest, read_records

N_CASES = 24


@pytest.fixture
def slow_server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer({"latency_ms": 150, "default": {"text": "ok"}}).start()
    yield srv
    srv.stop()


def project(root: Path, url: str) -> Path:
    config = {
        "suites": {
            "demo": {
                "goldens": "goldens.yaml",
                "target": {
                    "provider": "scripted",
                    "wire": "anthropic",
                    "model": "m",
                    "base_url": url,
                    "prompt": "p.yaml",
                },
                "checks": [{"type": "contains", "value": "ok"}],
                "concurrency": 2,
            }
        }
    }
    (root / "evalkit.yaml").write_text(yaml.safe_dump(config))
    goldens = [{"id": f"case-{i:02d}", "vars": {"q": str(i)}} for i in range(N_CASES)]
    (root / "goldens.yaml").write_text(yaml.safe_dump(goldens))
    (root / "p.yaml").write_text('user: "{{ q }}"\n')
    return root / "evalkit.yaml"


def _default_sigint() -> None:
    # a shell running us in the background may ignore SIGINT, and children inherit that
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_run(config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "evalkit", "run", "-c", str(config)],
        cwd=config.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,
    )


def wait_for_records(root: Path, at_least: int, proc: subprocess.Popen[bytes]) -> Path:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = list((root / "runs" / "demo").glob("*/*/results.jsonl"))
        if found and len(found[0].read_text().splitlines()) >= at_least:
            return found[0].parent
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("the run did not progress")


def finish(config: Path, run_path: Path) -> None:
    with pytest.raises(SystemExit) as done:
        main(["run", "-c", str(config), "--resume", run_path.name, "-q"])
        raise SystemExit(0)
    assert done.value.code in (0, None)


def test_killed_run_resumes_each_case_exactly_once(
    tmp_path: Path, slow_server: ScriptedServer
) -> None:
    config = project(tmp_path, slow_server.url)
    proc = start_run(config)
    run_path = wait_for_records(tmp_path, 4, proc)
    proc.kill()  # SIGKILL: no cleanup at all
    proc.wait()
    before = {r.case_id for r in read_records(run_path)}
    assert 4 <= len(before) < N_CASES
    assert read_manifest(run_path)["status"] == "running"

    finish(config, run_path)
    records = read_records(run_path)
    keys = [(r.case_id, r.repeat) for r in records]
    assert len(keys) == len(set(keys)) == N_CASES  # every case × repeat exactly once
    for case_id in before:  # finished cases were not requested again
        assert slow_server.count(case=case_id) == 1
    manifest = read_manifest(run_path)
    assert manifest["status"] == "complete" and len(manifest["resumed_at"]) == 1


def test_ctrl_c_marks_the_run_interrupted_and_exits_3(
    tmp_path: Path, slow_server: ScriptedServer
) -> None:
    config = project(tmp_path, slow_server.url)
    proc = start_run(config)
    run_path = wait_for_records(tmp_path, 2, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3, err
    assert b"Traceback" not in err and b"Ctrl-C stopped run" in err
    assert f"evalkit run --resume {run_path.name}".encode() in err  # the real run, not "RUN"
    assert read_manifest(run_path)["status"] == "interrupted"
    done = len(read_records(run_path))
    assert 2 <= done < N_CASES
    finish(config, run_path)
    assert len(read_records(run_path)) == N_CASES


def test_progress_is_quiet_when_not_a_terminal(tmp_path: Path) -> None:
    srv = ScriptedServer({"default": {"text": "ok"}}).start()
    try:
        config = project(tmp_path, srv.url)
        proc = start_run(config)
        out, err = proc.communicate(timeout=60)
    finally:
        srv.stop()
    assert proc.returncode == 0, err
    # nothing on stderr but the one-line warning that model "m" has no price
    assert err == b"warning: " + err.split(b"warning: ", 1)[-1] and err.count(b"\n") == 1
    assert b"no price for m:" in err and b"\x1b[" not in out + err
    assert b"pass rate 100.0%" in out and b"report: " in out and b"cost unknown" in out


def test_runs_lists_history_grouped_by_prompt_version(tmp_path: Path) -> None:
    srv = ScriptedServer({"default": {"text": "ok"}}).start()
    try:
        config = project(tmp_path, srv.url)
        for _ in range(2):
            assert start_run(config).wait(timeout=60) == 0
        (tmp_path / "p.yaml").write_text('label: v2\nuser: "Q {{ q }}"\n')
        assert start_run(config).wait(timeout=60) == 0
    finally:
        srv.stop()
    out = subprocess.run(
        [sys.executable, "-m", "evalkit", "runs", "-c", str(config)],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
        env={**os.environ, "COLUMNS": "150"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    groups = [line for line in out.stdout.splitlines() if line.startswith("demo · prompt")]
    assert len(groups) == 2 and groups[1].rstrip().endswith("(v2)")
    rows = [line for line in out.stdout.splitlines() if "complete" in line]
    assert len(rows) == 3 and all("100.0%" in row for row in rows)


def test_help_imports_no_sdk() -> None:
    code = (
        "import sys\n"
        "from evalkit.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "try:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in ('anthropic', 'openai', 'instructor') if m in sys.modules]\n"
        "print('LOADED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED []" in out.stdout and "Commands:" in out.stdout
    for name in ("run", "validate", "compare", "ci", "calibrate", "label", "judge", "demo"):
        assert name in out.stdout


def test_report_rewrites_the_report_and_keeps_run_facts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = ScriptedServer(
        {"default": {"text": "ok"}, "responses": [{"when": {"case": "case-03"}, "text": "nope"}]}
    ).start()
    try:
        config = project(tmp_path, srv.url)
        assert start_run(config).wait(timeout=60) == 0
    finally:
        srv.stop()
    (run_path,) = (tmp_path / "runs" / "demo").glob("*/*")
    (run_path / "report.md").unlink()
    with pytest.raises(SystemExit) as done:
        main(["report", run_path.name[:12], "-c", str(config)])
        raise SystemExit(0)
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    assert out.startswith(f"# evalkit run `{run_path.name}`")
    assert "| case-03 | 0 | check contains: missing 'ok'" in out
    assert (run_path / "report.md").read_text().rstrip() == out.rstrip()
    summary = json.loads((run_path / "summary.json").read_text())
    assert summary["requests"] == N_CASES and "timings" in summary
    assert summary["fail"] == 1


def test_run_headline_warns_about_a_grader_that_mostly_errored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bot.py").write_text("def answer(vars):\n    return 'ok ' + vars['q']\n")
    (tmp_path / "checks.py").write_text(
        "def picky(output, case):\n"
        "    if case.id != 'a':\n"
        "        raise KeyError('field')\n"
        "    return True\n"
    )
    config = {
        "suites": {
            "demo": {
                "goldens": "goldens.yaml",
                "target": {"provider": "python", "callable": "bot:answer"},
                "checks": [{"type": "python", "function": "checks:picky"}],
                "error_budget": 1.0,
                "grader_error_warning": 0.5,
            }
        }
    }
    (tmp_path / "evalkit.yaml").write_text(yaml.safe_dump(config))
    goldens = [{"id": i, "vars": {"q": i}} for i in ("a", "b", "c")]
    (tmp_path / "goldens.yaml").write_text(yaml.safe_dump(goldens))
    with pytest.raises(SystemExit) as done:
        main(["run", "demo", "-q", "-c", str(tmp_path / "evalkit.yaml")])
        raise SystemExit(0)
    assert done.value.code in (0, None)
    out, err = capsys.readouterr()
    assert "pass rate 100.0% over 1 of 3 cases (2 could not be graded)" in out
    assert "  check python  pass 100.0%  error  66.7%" in out
    assert "WARNING: check 'python' could not grade 2 of 3 outputs (66.7%, above 50%)" in err, err
    assert "WARNING: most outputs could not be graded (2 of 3)" in err


def test_run_without_suite_runs_every_suite_and_prints_run_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    srv = ScriptedServer({"default": {"text": "ok"}}).start()
    try:
        config = project(tmp_path, srv.url)
        raw = yaml.safe_load(config.read_text())
        raw["suites"]["second"] = raw["suites"]["demo"]
        config.write_text(yaml.safe_dump(raw))
        monkeypatch.chdir(tmp_path)
        with pytest.raises(SystemExit) as done:
            main(["run", "-q"])
            raise SystemExit(0)
        assert done.value.code in (0, None)
    finally:
        srv.stop()
    out = capsys.readouterr().out
    printed = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("run id: ")]
    stored = {p.parent.parent.name: p.name for p in (tmp_path / "runs").glob("*/*/*")}
    assert set(stored) == {"demo", "second"}
    assert printed == [stored["demo"], stored["second"]]  # in config order, one per suite

    with pytest.raises(SystemExit) as done:
        main(["report", "latest"])  # two suites: ambiguous, a usage error
    assert done.value.code == 2
    assert "SUITE/latest" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        main(["report", "second/latest"])
        raise SystemExit(0)
    assert done.value.code in (0, None)
    assert capsys.readouterr().out.startswith(f"# evalkit run `{stored['second']}`")


def test_prompt_override_without_suite_needs_one_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project(tmp_path, "http://127.0.0.1:9")  # never reached: refused before any request
    raw = yaml.safe_load(config.read_text())
    raw["suites"]["second"] = raw["suites"]["demo"]
    config.write_text(yaml.safe_dump(raw))
    with pytest.raises(SystemExit) as done:
        main(["run", "-c", str(config), "--prompt", str(tmp_path / "p.yaml")])
    assert done.value.code == 2
    assert "name the SUITE" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
