"""`evalkit calibrate grounded` end to end on a copy of the bundled example, scripted judge."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.analysis.calibration import calibration_status
from evalkit.api.calibrate import calibrate
from evalkit.api.project import load_config
from evalkit.base.exceptions import InputError
from evalkit.cli import cli
from evalkit.grading.judge import judge_version, load_judge
from evalkit.grading.judge.judge import scripted_override
from evalkit.model.provider import TargetSpec
from evalkit.scripted import ScriptedServer

REPO = Path(__file__).resolve().parents[2]
COPY = ("evalkit.yaml", "goldens", "prompts", "schemas", "scripts", "judges")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example")
    for name in COPY:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name)
        else:
            shutil.copy(src, root / name)
    for stale in root.glob("judges/*.calibration.json"):
        stale.unlink()
    return root


@pytest.fixture(scope="module")
def first_run(example: Path) -> Iterator[tuple[int, str]]:
    argv = ["calibrate", "grounded", "-c", str(example / "evalkit.yaml")]
    argv += ["--judge-script", str(example / "scripts/judges.yaml")]
    result = CliRunner().invoke(cli, argv)
    yield result.exit_code, result.output


def test_calibrate_example_grounded(example: Path, first_run: tuple[int, str]) -> None:
    code, out = first_run
    assert code == 0, out
    assert "74 labelled outputs, 74 graded, 0 judge error(s)" in out
    assert "86.5%" in out  # 64 of 74 agree
    assert "Disagreements (10)" in out
    assert "The $50 figure does not appear" in out  # the judge's reasoning ...
    assert "$349 - $299 = $50 is arithmetic" in out  # ... beside the human critique
    assert "CALIBRATED: judge grounded" in out
    data = json.loads((example / "judges/grounded.calibration.json").read_text())
    overall = data["overall"]
    assert overall["agreement"] == pytest.approx(64 / 74)
    assert overall["labels_per_class"] == {"pass": 44, "fail": 30}
    assert overall["confusion"] == {"tp": 40, "fn": 4, "fp": 6, "tn": 24}
    assert data["calibrated"] is True and data["state"] == "calibrated"
    assert data["thresholds"] == {
        "min_per_class": 30,
        "min_kappa": 0.6,
        "min_tpr": 0.7,
        "min_tnr": 0.7,
    }
    assert data["dev"]["n"] + data["holdout"]["n"] == 74
    definition = load_judge(example / "judges/grounded.yaml")
    script = example / "scripts/judges.yaml"
    # the scripted judge honours forced tool use: verdicts record the ``tools`` mode
    target = scripted_override(script)(definition)
    version = judge_version(definition, target, mode="tools")
    assert data["judge_version"] == version  # the version a scripted demo run records
    assert data["output_mode"] == "tools"  # what a later stale message compares with
    assert calibration_status("grounded", version, example).calibrated


def test_second_calibrate_makes_no_judge_requests(
    example: Path, first_run: tuple[int, str]
) -> None:
    argv = ["calibrate", "grounded", "-c", str(example / "evalkit.yaml")]
    argv += ["--judge-script", str(example / "scripts/judges.yaml")]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    assert "0 judge request(s), 74 cached" in result.output


def test_library_calibrate_counts_requests_at_the_server(example: Path) -> None:
    """The same through a running scripted server: the second pass never reaches it."""
    project = load_config(example / "evalkit.yaml")
    with ScriptedServer(example / "scripts/judges.yaml") as srv:
        target = TargetSpec(provider="scripted", model="claude-haiku-4-5", base_url=srv.url)
        first = calibrate(project, "grounded", target_override=target, write=False, n_boot=200)
        made = srv.count(purpose="judge:grounded")
        second = calibrate(project, "grounded", target_override=target, write=False, n_boot=200)
        assert made == 74 and srv.count(purpose="judge:grounded") == 74
    assert first.overall.agreement == second.overall.agreement == pytest.approx(64 / 74)


def test_label_for_an_unknown_case_is_refused_before_any_judge_call(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    exit_code: Callable[[list[str]], int],
) -> None:
    root = tmp_path / "p"
    shutil.copytree(example, root)
    labels_file = root / "judges/grounded.labels.jsonl"
    with labels_file.open("a", encoding="utf-8") as fh:
        fh.write('{"case_id": "deleted-case", "output": "o", "label": "pass"}\n')
    where = f"{labels_file}:75: case_id: label for unknown case 'deleted-case'"
    stored = root / "judges/grounded.calibration.json"
    before = stored.read_bytes() if stored.exists() else None
    project = load_config(root / "evalkit.yaml")
    with ScriptedServer(root / "scripts/judges.yaml") as srv:
        target = TargetSpec(provider="scripted", model="claude-haiku-4-5", base_url=srv.url)
        with pytest.raises(InputError) as err:
            calibrate(project, "grounded", target_override=target, write=False)
        assert srv.count() == 0
    assert str(err.value).startswith(where)
    assert exit_code(["calibrate", "grounded", "-c", str(root / "evalkit.yaml")]) == 2
    assert where in capsys.readouterr().err
    assert (stored.read_bytes() if stored.exists() else None) == before  # untouched


def test_rubric_edit_makes_it_stale_until_recalibrated(
    example: Path,
    first_run: tuple[int, str],
    tmp_path: Path,
    exit_code: Callable[[list[str]], int],
) -> None:
    root = tmp_path / "p"
    shutil.copytree(example, root)
    judge_file = root / "judges/grounded.yaml"
    script = root / "scripts/judges.yaml"

    def version() -> str:
        definition = load_judge(judge_file)
        return judge_version(definition, scripted_override(script)(definition), mode="tools")

    assert calibration_status("grounded", version(), root).calibrated
    judge_file.write_text(
        judge_file.read_text().replace("Judge only grounding.", "Judge only grounding, strictly.")
    )
    assert calibration_status("grounded", version(), root).state == "stale"
    argv = [
        "calibrate",
        "grounded",
        "-c",
        str(root / "evalkit.yaml"),
        "--judge-script",
        str(script),
    ]
    assert exit_code(argv) == 0
    assert calibration_status("grounded", version(), root).calibrated


def test_errors_and_help(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    exit_code: Callable[[list[str]], int],
) -> None:
    root = tmp_path / "p"
    shutil.copytree(example, root)
    (root / "judges/grounded.labels.jsonl").write_text(
        '{"case_id": "x", "output": "o", "label": "perhaps"}\n'
    )
    argv = ["calibrate", "grounded", "-c", str(root / "evalkit.yaml")]
    assert exit_code(argv) == 2
    assert "grounded.labels.jsonl:1: label: expected pass or fail" in capsys.readouterr().err
    assert exit_code(["calibrate", "preference", "-c", str(root / "evalkit.yaml")]) == 2
    assert exit_code(["calibrate", "nosuch", "-c", str(root / "evalkit.yaml")]) == 2
    help_text = CliRunner().invoke(cli, ["calibrate", "--help"]).output
    assert "Example" in help_text and "--judge-script" in help_text


def test_thresholds_from_evalkit_yaml_per_project_and_judge_flags_override(
    example: Path, tmp_path: Path, exit_code: Callable[[list[str]], int]
) -> None:
    root = tmp_path / "p"
    shutil.copytree(example, root)
    config = root / "evalkit.yaml"
    config.write_text(
        config.read_text()
        + "calibration:\n  min_kappa: 0.95\n  min_tpr: 0.8\n"
        + "  judges:\n    grounded: {min_tpr: 0.5}\n"
    )
    argv = ["calibrate", "grounded", "-c", str(config), "--min-tnr", "0.6"]
    assert exit_code([*argv, "--judge-script", str(root / "scripts/judges.yaml")]) == 0
    data = json.loads((root / "judges/grounded.calibration.json").read_text())
    # default, project, judge (over project), flag
    assert data["thresholds"] == {
        "min_per_class": 30,
        "min_kappa": 0.95,
        "min_tpr": 0.5,
        "min_tnr": 0.6,
    }
    assert data["state"] == "below thresholds"  # kappa on the example is below 0.95


def test_the_python_api_applies_the_thresholds_of_evalkit_yaml(
    example: Path, tmp_path: Path
) -> None:
    root = tmp_path / "p"
    shutil.copytree(example, root)
    config = root / "evalkit.yaml"
    extra = "calibration:\n  judges:\n    grounded: {min_tpr: 0.99}\n"
    config.write_text(config.read_text() + extra)
    project = load_config(config)
    script = root / "scripts/judges.yaml"
    result = calibrate(project, "grounded", judge_script=script, write=False)
    assert result.thresholds.min_tpr == 0.99 and result.thresholds.min_per_class == 30
    assert result.state == "below thresholds"


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            "calibration:\n  judges:\n    grundead: {min_kappa: 0.5}\n",
            "calibration.judges.grundead: no judge 'grundead'",
        ),
        ("calibration:\n  min_tpr: 1.5\n", "calibration.min_tpr: Input should be less than"),
        ("calibration:\n  min_kapa: 0.5\n", "calibration.min_kapa: unknown field"),
    ],
)
def test_bad_thresholds_in_evalkit_yaml_name_file_line_and_field(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    exit_code: Callable[[list[str]], int],
    block: str,
    expected: str,
) -> None:
    root = tmp_path / "p"
    shutil.copytree(example, root)
    config = root / "evalkit.yaml"
    text = config.read_text()
    config.write_text(text + block)
    line = text.count("\n") + block.count("\n")  # the last line of the block holds the error
    assert exit_code(["calibrate", "grounded", "-c", str(config)]) == 2
    assert f"evalkit.yaml:{line}: {expected}" in capsys.readouterr().err
