"""A judge edited after the baseline was committed: the advice names a command that works on a
fresh checkout (only runs/baselines/ present) and never writes into runs/baselines/."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import Cli


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_rejudge_advice_works_on_a_fresh_checkout_with_a_committed_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(["init", "."])[0] == 0
    assert cli(["run"])[0] == 0
    assert cli(["baseline", "set", "assistant/latest"])[0] == 0
    baselines = _tree(tmp_path / "runs" / "baselines")
    shutil.rmtree(tmp_path / "runs" / "assistant")  # git-ignored: a fresh checkout lacks it
    judge = tmp_path / "judges" / "correct.yaml"
    judge.write_text(judge.read_text().replace("PASS when", "PASS only when"))

    code, out, err = cli(["ci", "assistant", "--out", "out"])
    out += err
    assert code == 0, out
    advice = re.search(r"re-judge the base with `(evalkit judge [^`]+)`", out)
    assert advice is not None, out
    code, out, err = cli(advice.group(1).split()[1:])
    out += err
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
