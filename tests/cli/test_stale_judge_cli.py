"""A judge edited after the baseline was committed: the advice names a command that works on a
fresh checkout (only runs/baselines/ present) and never writes into runs/baselines/."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from evalkit.cli import main


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = 0 if exc.code is None else int(exc.code)
    out, err = capsys.readouterr()
    return code, out + err


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_rejudge_advice_works_on_a_fresh_checkout_with_a_committed_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _cli(["init", "."], capsys)[0] == 0
    assert _cli(["run"], capsys)[0] == 0
    assert _cli(["baseline", "set", "assistant/latest"], capsys)[0] == 0
    baselines = _tree(tmp_path / "runs" / "baselines")
    shutil.rmtree(tmp_path / "runs" / "assistant")  # git-ignored: a fresh checkout lacks it
    judge = tmp_path / "judges" / "correct.yaml"
    judge.write_text(judge.read_text().replace("PASS when", "PASS only when"))

    code, out = _cli(["ci", "assistant", "--out", "out"], capsys)
    assert code == 0, out
    advice = re.search(r"re-judge the base with `(evalkit judge [^`]+)`", out)
    assert advice is not None, out
    code, out = _cli(advice.group(1).split()[1:], capsys)
    assert code == 0, out
    assert _tree(tmp_path / "runs" / "baselines") == baselines
    manifests = [json.loads(m.read_text()) for m in (tmp_path / "runs").glob("*/*/*/manifest.json")]
    (rejudged,) = [m for m in manifests if m.get("rejudged_from")]
    base_id = json.loads((tmp_path / "runs" / "baselines" / "assistant.json").read_text())["run_id"]
    assert rejudged["rejudged_from"] == base_id and rejudged["suite"] == "assistant"
    assert rejudged["judge_versions"]["correct"] != baselines_judge_version(baselines)


def baselines_judge_version(tree: dict[str, bytes]) -> str:
    manifest = json.loads(tree["assistant/manifest.json"])
    return str(manifest["judge_versions"]["correct"])
