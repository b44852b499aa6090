"""`evalkit judge --batch` and `--resume` on the command line (offline: a scripted judge)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evalkit.api.batch import read_batches
from evalkit.api.judge_batch import judge_batches_file
from evalkit.scripted import ScriptedServer
from evalkit.storage.store import read_manifest
from tests.api.test_judge_batch import first_run, project, script
from tests.conftest import Cli


def test_judge_batch_cli_with_a_scripted_judge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    rules = script()
    with ScriptedServer(rules) as server:
        config = project(tmp_path, server, rules, "openai", "auto")
        source = first_run(config)
    # the judge answered offline by its own scripted server (--script), through batches
    (tmp_path / "judges.yaml").write_text(yaml.safe_dump(rules))
    monkeypatch.chdir(tmp_path)
    argv = ["judge", source.name, "--script", "judges.yaml", "--batch", "--batch-poll", "0.02"]
    code, out, err = cli([*argv, "--no-cache"])
    assert code == 0, err
    assert f"re-judged {source.name}" in out and "pass rate 75.0%" in out
    new = Path(out.split("report: ")[1].strip()).parent
    manifest = read_manifest(new)
    assert manifest["batch"] is True and manifest["rejudge"]["script"].endswith("judges.yaml")
    (batch,) = read_batches(new, judge_batches_file("grounded"))["batches"]
    assert manifest["judge_batches"] == {"grounded": [batch["id"]]}

    # a finished re-judge has nothing to resume; a run that is no re-judge cannot be resumed
    code, _, err = cli(["judge", "--resume", new.name])
    assert code == 2 and "is complete: nothing to resume" in err
    code, _, err = cli(["judge", "--resume", source.name])
    assert code == 2 and "is not a re-judge" in err and "rejudged_from" in err


def test_judge_needs_a_run_or_resume(cli: Cli) -> None:
    code, _, err = cli(["judge"])
    assert code == 2 and "give RUN to re-judge, or --resume RUN" in err
    code, _, err = cli(["judge", "x", "--resume", "y"])
    assert code == 2 and "give RUN to re-judge, or --resume RUN" in err
