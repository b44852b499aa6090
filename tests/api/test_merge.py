"""`evalkit merge`: shard runs joined into the run an unsharded `evalkit run` makes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from evalkit.api.merge import merge_runs
from evalkit.base.exceptions import InputError
from evalkit.storage.store import iter_run_dirs, read_manifest, read_records, write_manifest
from tests.conftest import MakeProject

N = 30
SCRIPT = "default: {text: 'ok fine'}\nresponses:\n" + "".join(
    f"  - when: {{case: c{i:02d}}}\n    text: 'nope'\n" for i in range(0, N, 3)
)
# differ between any two runs, sharded or not
_RUN_LOCAL = {"latency_ms", "finished_at"}
_SUMMARY_LOCAL = {"timings", "latency_ms_p50", "latency_ms_p95"}
_MANIFEST_LOCAL = {"run_id", "started_at", "finished_at", "writer", "merged_from", "git"}


@pytest.fixture
def root(make_project: MakeProject) -> Path:
    tags = [["a"], ["b"], []]
    cases = [
        {"id": f"c{i:02d}", "vars": {"question": f"q{i}"}, "tags": tags[i % 3]} for i in range(N)
    ]
    return make_project({"goldens/demo.yaml": yaml.safe_dump(cases), "script.yaml": SCRIPT})


@pytest.fixture
def run(root: Path, exit_code: Callable[[list[str]], int]) -> Callable[..., Path]:
    def go(*flags: str) -> Path:
        before = set(iter_run_dirs(root / "runs"))
        argv = ["run", "demo", "-c", str(root / "evalkit.yaml"), "-q", "--no-cache", *flags]
        assert exit_code(argv) == 0
        (new,) = set(iter_run_dirs(root / "runs")) - before
        return new

    return go


def _records(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    return {
        r.key: {k: v for k, v in r.model_dump().items() if k not in _RUN_LOCAL}
        for r in read_records(path)
    }


def _summary(path: Path) -> dict[str, Any]:
    data = json.loads((path / "summary.json").read_text())
    return {k: v for k, v in data.items() if k not in _SUMMARY_LOCAL}


def _manifest(path: Path) -> dict[str, Any]:
    return {k: v for k, v in read_manifest(path).items() if k not in _MANIFEST_LOCAL}


def test_merged_shards_equal_the_unsharded_run(root: Path, run: Callable[..., Path]) -> None:
    whole = run()
    shards = [run("--shard", f"{i}/3") for i in (1, 2, 3)]
    assert sum(len(read_records(s)) for s in shards) == N
    merged = merge_runs(
        [s.name for s in reversed(shards)], runs_dir=root / "runs", project_root=root
    )
    assert merged.path.parent == whole.parent  # stored where the unsharded run is
    assert _records(merged.path) == _records(whole)
    assert _summary(merged.path) == _summary(whole)
    assert _summary(whole)["pass_rate"] == pytest.approx(20 / 30)  # a real figure, not vacuous
    assert _manifest(merged.path) == _manifest(whole)
    assert read_manifest(merged.path)["merged_from"] == [s.name for s in shards]
    assert (merged.path / "report.md").read_text().splitlines()[2] == (
        (whole / "report.md").read_text().splitlines()[2]
    )


def test_merged_shards_of_a_sample_equal_the_sample(root: Path, run: Callable[..., Path]) -> None:
    whole = run("--sample", "12", "--seed", "5")
    shards = [run("--sample", "12", "--seed", "5", "--shard", f"{i}/2") for i in (1, 2)]
    merged = merge_runs([str(s) for s in shards], runs_dir=root / "runs", project_root=root)
    assert _records(merged.path) == _records(whole)
    assert _summary(merged.path) == _summary(whole)
    assert read_manifest(merged.path)["selection"] == read_manifest(whole)["selection"]
    assert "sample of 12 of 30 cases" in (merged.path / "report.md").read_text()


def _refused(root: Path, runs: list[Path], *needles: str) -> InputError:
    before = set(iter_run_dirs(root / "runs"))
    with pytest.raises(InputError) as exc:
        merge_runs([str(r) for r in runs], runs_dir=root / "runs", project_root=root)
    for needle in needles:
        assert needle in str(exc.value)
    assert set(iter_run_dirs(root / "runs")) == before  # nothing written
    return exc.value


def test_refuses_what_is_not_one_run(root: Path, run: Callable[..., Path]) -> None:
    s1, s2 = run("--shard", "1/2"), run("--shard", "2/2")
    _refused(root, [s1], "shard(s) 2/2 missing")
    _refused(root, [s1, s1], "shard 1/2 is given twice")
    _refused(root, [s1, run("--shard", "2/3")], "different splits")
    _refused(root, [s1, run()], "is not a shard")
    _refused(root, [s1, run("--shard", "2/2", "--tag", "a")], "only shards of one selection")
    # another prompt version: another prompt file with other templates
    (root / "prompts" / "v2.yaml").write_text('user: "Question: {{ question }}"\n')
    other = run("--shard", "2/2", "--prompt", str(root / "prompts" / "v2.yaml"))
    err = _refused(root, [s1, other], "prompt_version", "cannot be merged")
    assert err.field == "prompt_version" and err.path == str(other / "manifest.json")
    manifest = read_manifest(s2)
    write_manifest(s2, {**manifest, "status": "interrupted"})
    _refused(root, [s1, s2], "is interrupted", f"evalkit run --resume {s2.name}")


def test_cli_merge_exit_codes(
    root: Path,
    run: Callable[..., Path],
    exit_code: Callable[[list[str]], int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    s1, s2 = run("--shard", "1/2"), run("--shard", "2/2")
    config = str(root / "evalkit.yaml")
    assert exit_code(["merge", "-c", config, s1.name]) == 2
    assert "missing" in capsys.readouterr().err
    assert exit_code(["merge", "-c", config, s1.name, s2.name]) == 0
    out = capsys.readouterr().out
    assert "merged 2 shards: pass rate 66.7% over 30 cases" in out
    assert "subset" not in out and "sample" not in out


def test_ci_gates_the_merged_run(
    root: Path,
    run: Callable[..., Path],
    exit_code: Callable[[list[str]], int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    s1, s2 = run("--shard", "1/2"), run("--shard", "2/2")
    config = str(root / "evalkit.yaml")
    out = root / "out"
    assert exit_code(["merge", "-c", config, s1.name, s2.name]) == 0
    capsys.readouterr()
    gate = ["ci", "demo", "-c", config, "--out", str(out), "--run", "demo/latest"]
    assert exit_code(gate) == 0
    payload = json.loads((out / "summary.json").read_text())
    head = read_manifest(Path(payload["head_run"]))
    assert head["cases"] == N and head["merged_from"] == [s1.name, s2.name]  # not a shard
    manifest = read_manifest(s1)
    write_manifest(s1, {**manifest, "status": "interrupted"})
    assert exit_code([*gate[:-1], s1.name]) == 2
    assert "not complete" in capsys.readouterr().err
