"""`evalkit label`: an interactive session driven through its prompts on stdin, and CSV import."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from evalkit.cli import cli
from tests.analysis.calibration.helpers import JUDGE, read_jsonl, write_project, write_run

VERDICTS = ["pass", "pass", "fail", "pass", "fail", "pass"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_project(tmp_path)
    write_run(tmp_path, "run-1", VERDICTS)
    return tmp_path


def label(project: Path, stdin: str, *extra: str) -> Result:
    args = ["label", "run-1", "--judge", JUDGE, "-c", str(project / "evalkit.yaml")]
    return CliRunner().invoke(cli, [*args, "--labeler", "ann", *extra], input=stdin)


def labels(project: Path) -> list[dict[str, object]]:
    path = project / "judges" / f"{JUDGE}.labels.jsonl"
    return read_jsonl(path) if path.exists() else []


def test_session_records_labels_and_hides_the_judge(project: Path) -> None:
    result = label(project, "p\nall claims in doc\nf\n\nq\n", "--n", "3", "--seed", "1")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "question number" in out and "policy text" in out and "reference answer" in out
    assert "SECRET-JUDGE-REASONING" not in out  # the judge's verdict would anchor the labeller
    rows = labels(project)
    assert [r["label"] for r in rows] == ["pass", "fail"]
    first = rows[0]
    assert first["critique"] == "all claims in doc" and rows[1]["critique"] == ""
    assert first["labeler"] == "ann" and first["run_id"] == "run-1" and first["labeled_at"]
    output = str(first["output"])
    assert first["output_sha"] == hashlib.sha256(output.encode()).hexdigest()
    assert first["sampling"] == {"mode": "random", "seed": 1, "population": 6}
    assert "2 label(s) saved this session" in out


def test_resume_skips_outputs_already_labelled(project: Path) -> None:
    label(project, "p\n\nf\n\nq\n", "--n", "3", "--seed", "1")
    done = {r["output"] for r in labels(project)}
    result = label(project, "p\n\n" * 4, "--n", "10", "--seed", "2")
    assert result.exit_code == 0, result.output
    assert "2 already labelled" in result.output
    for text in done:
        assert f"\n{text}\n" not in result.output  # not shown again
    rows = labels(project)
    assert len(rows) == 6 and len({r["output_sha"] for r in rows}) == 6
    third = label(project, "", "--n", "5")
    assert "Nothing left to label" in third.output


def test_undo_removes_the_last_label_and_asks_again(project: Path) -> None:
    result = label(project, "p\n\nu\nf\nwrong doc cited\nq\n", "--n", "3", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "undone" in result.output
    rows = labels(project)
    assert len(rows) == 1
    assert rows[0]["label"] == "fail" and rows[0]["critique"] == "wrong doc cited"
    # the re-asked output is the one whose label was undone
    assert result.output.count(str(rows[0]["output"])) == 2


def test_undo_with_nothing_to_undo_and_a_bad_answer(project: Path) -> None:
    result = label(project, "u\nmaybe\np\n\nq\n", "--n", "2", "--seed", "1")
    assert "nothing to undo" in result.output
    assert "expected pass or fail" in result.output
    assert [r["label"] for r in labels(project)] == ["pass"]


def test_skip_leaves_the_output_for_later(project: Path) -> None:
    result = label(project, "s\np\n\nq\n", "--n", "3", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "(1 skipped)" in result.output
    assert len(labels(project)) == 1
    again = label(project, "q\n", "--n", "10", "--seed", "1")
    assert "1 already labelled" in again.output  # the skipped output is still to label


def test_labels_survive_an_interrupted_session(project: Path) -> None:
    result = label(project, "p\n\n", "--n", "3", "--seed", "1")  # stdin ends: like Ctrl-D
    assert result.exit_code != 0
    assert len(labels(project)) == 1


def test_stratified_sample_records_stratum_sizes(tmp_path: Path) -> None:
    write_project(tmp_path, n_cases=10)
    write_run(tmp_path, "run-1", ["pass"] * 8 + ["fail"] * 2)
    result = label(tmp_path, "p\n\n" * 4, "--n", "4", "--strategy", "stratified", "--seed", "3")
    assert result.exit_code == 0, result.output
    rows = labels(tmp_path)
    strata = sorted((r["sampling"]["stratum"], r["sampling"]["stratum_size"]) for r in rows)  # type: ignore[index]
    assert strata == [("fail", 2), ("fail", 2), ("pass", 8), ("pass", 8)]


def test_likert_judge_takes_scores(tmp_path: Path) -> None:
    write_project(tmp_path, scale="likert-5")
    write_run(tmp_path, "run-1", VERDICTS)
    result = label(tmp_path, "p\n9\n4\n\nq\n", "--n", "2", "--seed", "1")
    assert "expected a score 1–5" in result.output
    assert [r["label"] for r in labels(tmp_path)] == [4]


CSV_OK = (
    "case_id,output,label,critique,labeler\n"
    'case-1,"a reply\nover two lines",pass,fine,bob\n'
    "case-2,another reply,FAIL,cites a missing doc,\n"
)


def test_import_csv(
    project: Path, capsys: pytest.CaptureFixture[str], exit_code: Callable[[list[str]], int]
) -> None:
    csv_path = project / "export.csv"
    csv_path.write_text(CSV_OK, "utf-8")
    argv = ["label", "--import-csv", str(csv_path), "--judge", JUDGE, "--labeler", "ann"]
    argv += ["-c", str(project / "evalkit.yaml")]
    assert exit_code(argv) == 0
    rows = labels(project)
    assert [(r["case_id"], r["label"], r["labeler"]) for r in rows] == [
        ("case-1", "pass", "bob"),
        ("case-2", "fail", "ann"),
    ]
    assert rows[0]["output"] == "a reply\nover two lines"
    assert rows[0]["sampling"] == {"mode": "import", "source": "export.csv"}
    assert exit_code(argv) == 0  # importing the same export again adds nothing
    assert len(labels(project)) == 2
    assert "2 already present" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("row", "where"),
    [
        ("case-3,text,maybe,,\n", ":5: label:"),  # the quoted output of row 1 spans lines 2-3
        (",text,pass,,\n", ":5: case_id:"),
    ],
)
def test_import_csv_bad_row_names_file_line_field(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    exit_code: Callable[[list[str]], int],
    row: str,
    where: str,
) -> None:
    csv_path = project / "bad.csv"
    csv_path.write_text(CSV_OK + row, "utf-8")
    argv = ["label", "--import-csv", str(csv_path), "--judge", JUDGE]
    code = exit_code([*argv, "-c", str(project / "evalkit.yaml")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"bad.csv{where}" in err
    assert labels(project) == []  # nothing written from a file with an error


def test_import_csv_row_for_an_unknown_case_names_line_and_case(
    project: Path, capsys: pytest.CaptureFixture[str], exit_code: Callable[[list[str]], int]
) -> None:
    csv_path = project / "bad.csv"
    csv_path.write_text(CSV_OK + "no-such-case,text,pass,,\n", "utf-8")
    argv = ["label", "--import-csv", str(csv_path), "--judge", JUDGE]
    assert exit_code([*argv, "-c", str(project / "evalkit.yaml")]) == 2
    err = capsys.readouterr().err
    assert "bad.csv:5: case_id: label for unknown case 'no-such-case'" in err
    assert labels(project) == []  # nothing written from a file with an error


def test_import_csv_missing_column(
    project: Path, capsys: pytest.CaptureFixture[str], exit_code: Callable[[list[str]], int]
) -> None:
    csv_path = project / "bad.csv"
    csv_path.write_text("case_id,output\nx,y\n", "utf-8")
    argv = ["label", "--import-csv", str(csv_path), "--judge", JUDGE]
    assert exit_code([*argv, "-c", str(project / "evalkit.yaml")]) == 2
    assert "bad.csv:1: label: missing column" in capsys.readouterr().err


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["label", "--help"])
    assert "Example" in result.output and "--strategy" in result.output
