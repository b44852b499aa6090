"""Human labels: ``judges/<judge>.labels.jsonl``, one label per line, bound to the rated output.

A label is bound to the exact text it rates by ``output_sha`` (SHA-256 of the UTF-8 output), so a
regenerated output never inherits an old verdict. Hand-written files may leave ``output_sha``
empty: :func:`read_labels` fills it; a non-empty sha that does not match the output is an error
(the label no longer rates the text beside it).

``sampling`` records how the output was chosen for labelling, because it decides which figures
the label may feed: ``random`` labels of a run are a simple random sample (PPI++ may use them);
``stratified`` labels were drawn per judge verdict and carry the stratum sizes so that
calibration can reweight them (:mod:`evalkit.analysis.calibration.weights`); ``import`` / absent
means
"unknown", treated as representative and said so.

Writes append and flush one line per label (Ctrl-C loses nothing); undo rewrites the file
atomically.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Container, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from evalkit.base.exceptions import InputError
from evalkit.base.files import (
    DuplicateKeyError,
    csv_header,
    loads_json,
    read_text,
    write_atomic,
)

Scale = Literal["binary", "likert-5"]
SamplingMode = Literal["random", "stratified", "import", "manual"]
LabelValue = str | int
LABELS_SUFFIX = ".labels.jsonl"
CSV_COLUMNS = ("case_id", "output", "label", "critique", "labeler")
_REQUIRED_CSV = ("case_id", "output", "label")


def output_sha(text: str) -> str:
    """SHA-256 hex of the output as rated: the label's binding to that exact text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Sampling(BaseModel):
    """How a labelled output was chosen. Stratum sizes make stratified labels reweightable."""

    model_config = ConfigDict(extra="allow")

    mode: SamplingMode = "manual"
    seed: int | None = None
    #: stratified only: the run judge verdict the output was drawn under, and how many outputs
    #: of the run had that verdict (the stratum's population)
    stratum: str | None = None
    stratum_size: int | None = None
    #: outputs in the run eligible for labelling when the sample was drawn
    population: int | None = None
    source: str | None = None


class Label(BaseModel):
    """One human verdict on one output, for one judge."""

    model_config = ConfigDict(extra="allow")

    case_id: str = Field(min_length=1)
    output: str
    output_sha: str = ""
    label: LabelValue
    critique: str = ""
    labeler: str = ""
    labeled_at: str | None = None
    run_id: str | None = None
    sampling: Sampling = Field(default_factory=Sampling)
    #: line in the labels file it was read from (error messages); not written back
    _source_line: int | None = PrivateAttr(default=None)

    def line(self) -> str:
        """The JSON line, with ``output_sha`` always filled in."""
        data = self.model_dump(exclude_none=True)
        data["output_sha"] = self.output_sha or output_sha(self.output)
        return json.dumps(data, ensure_ascii=False) + "\n"


def labels_path(project_root: Path, judge: str) -> Path:
    return project_root / "judges" / f"{judge}{LABELS_SUFFIX}"


def parse_label_value(raw: Any, scale: Scale) -> LabelValue:
    """``pass``/``fail`` for binary judges, an integer 1–5 for likert ones; ValueError otherwise."""
    if scale == "likert-5":
        text = str(raw).strip()
        if isinstance(raw, bool) or text not in {"1", "2", "3", "4", "5"}:
            raise ValueError(f"expected a score 1–5, got {raw!r}")
        return int(text)
    text = str(raw).strip().lower()
    aliases = {"pass": "pass", "p": "pass", "fail": "fail", "f": "fail"}
    if text not in aliases:
        raise ValueError(f"expected pass or fail, got {raw!r}")
    return aliases[text]


def _validated(raw: Any, path: Path, line: int, scale: Scale | None) -> Label:
    if not isinstance(raw, dict):
        raise InputError("each line must be a JSON object", path=path, line=line)
    try:
        label = Label.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise InputError(err["msg"], path=path, line=line, field=field) from None
    sha = output_sha(label.output)
    if label.output_sha and label.output_sha != sha:
        raise InputError(
            "output_sha does not match the output (the label no longer rates this text)",
            path=path,
            line=line,
            field="output_sha",
        )
    label.output_sha = sha
    label._source_line = line
    if scale is not None:
        try:
            label.label = parse_label_value(label.label, scale)
        except ValueError as exc:
            raise InputError(str(exc), path=path, line=line, field="label") from None
    return label


def read_labels(path: Path, scale: Scale | None = None) -> list[Label]:
    """All labels in file order (a missing file is no labels); errors name file:line:field."""
    if not path.exists():
        return []
    out: list[Label] = []
    lines = read_text(path).split("\n")
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            raw = loads_json(text)
        except json.JSONDecodeError as exc:
            if number == len(lines):  # a torn last line from a kill mid-write: ignore
                continue
            raise InputError(f"invalid JSON: {exc.msg}", path=path, line=number) from None
        except DuplicateKeyError as exc:
            raise InputError(str(exc), path=path, line=number, field=exc.key) from None
        out.append(_validated(raw, path, number, scale))
    return out


def _unknown_case(case_id: str, path: Path, line: int | None) -> InputError:
    return InputError(
        f"label for unknown case {case_id!r}: no golden set of the project has it (fix the "
        "case id, restore the case, or remove the label)",
        path=path,
        line=line,
        field="case_id",
    )


def check_known_cases(labels: Iterable[Label], known: Container[str], path: Path) -> None:
    """Refuse labels whose case no golden set has: the judge could not see the case's input,
    so the label cannot be graded, and skipping it would quietly shrink the sample."""
    for label in labels:
        if label.case_id not in known:
            raise _unknown_case(label.case_id, path, label._source_line)


def latest_by_output(labels: Iterable[Label]) -> dict[str, Label]:
    """One label per rated output: the last one written wins (a relabel replaces a label)."""
    return {label.output_sha: label for label in labels}


def append_label(path: Path, label: Label) -> None:
    """Append one label and flush it, first trimming a torn last line left by a kill.

    A last line without its newline is torn only if it is not JSON (as :func:`read_labels`
    sees it); a complete hand-written label merely lacking the newline is kept.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        with path.open("rb+") as fh:
            data = fh.read()
            if data and not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                try:
                    json.loads(data[cut:])
                except ValueError:
                    fh.truncate(cut)
                else:
                    fh.write(b"\n")
    # a lone surrogate (outputs are hostile data) goes in as its JSON escape, as in write_atomic
    with path.open("a", encoding="utf-8", errors="backslashreplace") as fh:
        fh.write(label.line())
        fh.flush()


def rewrite_labels(path: Path, labels: Sequence[Label]) -> None:
    """Replace the file atomically (used by undo)."""
    write_atomic(path, "".join(label.line() for label in labels))


def remove_label(path: Path, target: Label) -> bool:
    """Remove the last line equal to ``target``; False when it is no longer in the file."""
    labels = read_labels(path)
    wanted = target.model_copy(update={"output_sha": output_sha(target.output)}).model_dump()
    for i in range(len(labels) - 1, -1, -1):
        if labels[i].model_dump() == wanted:
            del labels[i]
            rewrite_labels(path, labels)
            return True
    return False


def read_csv_labels(
    csv_path: Path,
    scale: Scale,
    *,
    labeled_at: str,
    default_labeler: str = "",
    known_cases: Container[str] | None = None,
) -> list[Label]:
    """Labels from a CSV export (columns case_id, output, label, critique, labeler).

    The whole file is validated before anything is written; an error names file:line:field,
    where the line is the row's first physical line (a quoted output may span several).
    With ``known_cases``, a row for any other case id is an error too.
    """
    text = read_text(csv_path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = csv_header(reader.fieldnames, csv_path)
    missing = [c for c in _REQUIRED_CSV if c not in header]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)} (need {', '.join(CSV_COLUMNS)})",
            path=csv_path,
            line=1,
            field=missing[0],
        )
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise InputError(
            f"unknown column {unknown[0]!r} (use {', '.join(CSV_COLUMNS)})",
            path=csv_path,
            line=1,
            field=unknown[0],
        )
    out: list[Label] = []
    start = reader.line_num + 1
    for row in reader:
        line = start
        start = reader.line_num + 1
        if None in row:
            raise InputError("row has more cells than the header", path=csv_path, line=line)
        cells = {k.strip(): (v or "") for k, v in row.items() if k is not None}
        if not any(v.strip() for v in cells.values()):
            continue
        for column in _REQUIRED_CSV:
            if not cells.get(column, "").strip():
                raise InputError("empty", path=csv_path, line=line, field=column)
        try:
            value = parse_label_value(cells["label"], scale)
        except ValueError as exc:
            raise InputError(str(exc), path=csv_path, line=line, field="label") from None
        if known_cases is not None and cells["case_id"].strip() not in known_cases:
            raise _unknown_case(cells["case_id"].strip(), csv_path, line)
        out.append(
            Label(
                case_id=cells["case_id"].strip(),
                output=cells["output"],
                output_sha=output_sha(cells["output"]),
                label=value,
                critique=cells.get("critique", "").strip(),
                labeler=cells.get("labeler", "").strip() or default_labeler,
                labeled_at=labeled_at,
                sampling=Sampling(mode="import", source=csv_path.name),
            )
        )
    return out


def import_csv(
    csv_path: Path,
    labels_file: Path,
    scale: Scale,
    *,
    labeled_at: str,
    default_labeler: str = "",
    known_cases: Container[str] | None = None,
) -> tuple[int, int]:
    """Append a CSV export's labels; ``(added, already_present)``. Identical labels (same output,
    labeler and verdict) are not duplicated, so importing the same export twice is harmless."""
    new = read_csv_labels(
        csv_path,
        scale,
        labeled_at=labeled_at,
        default_labeler=default_labeler,
        known_cases=known_cases,
    )
    seen = {(x.output_sha, x.labeler, str(x.label)) for x in read_labels(labels_file, scale)}
    added = 0
    for label in new:
        key = (label.output_sha, label.labeler, str(label.label))
        if key in seen:
            continue
        seen.add(key)
        append_label(labels_file, label)
        added += 1
    return added, len(new) - added
