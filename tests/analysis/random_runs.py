"""Random pairs of stored runs with everything compare must count: repeats, provider errors,
check and judge errors, duplicate grader names, records whose outcome disagrees with their
graders, superseded lines (a resumed run), unknown costs, cached and truncated outputs, added
and removed cases, tags and cluster values.

Deterministic for a seed (``random.Random``, stable across Python versions), so figures
computed once (``tests/analysis/data/compare_golden.json``) can be checked again.
"""

from __future__ import annotations

import random
from pathlib import Path

from evalkit.analysis.synthetic import write_run
from evalkit.model.outcome import CheckResult, Outcome, combine
from evalkit.model.record import CaseRecord, ErrorInfo, JudgeVerdict, Usage
from evalkit.storage.store import RESULTS, encode_record

#: (seed, cluster key) of each golden comparison
CASES = [
    (1, None),
    (2, None),
    (3, "tag:doc:"),
    (4, "vars.doc"),
    (5, None),
    (6, "metadata.thread"),
    (7, None),
    (8, "tag:doc:"),
]

_OUT = [Outcome.PASS, Outcome.PASS, Outcome.PASS, Outcome.FAIL, Outcome.ERROR]


def _outcome(rng: random.Random, pass_p: float) -> Outcome:
    u = rng.random()
    if u < 0.04:
        return Outcome.ERROR
    return Outcome.PASS if u < pass_p else Outcome.FAIL


def _record(rng: random.Random, case: int, repeat: int, pass_p: float) -> CaseRecord:
    cid = f"c{case:03d}"
    tags = [t for t in ("refunds", "shipping", "orders") if rng.random() < 0.4]
    if rng.random() < 0.7:
        tags.append(f"doc:d{case % 7}")
    common = {
        "case_id": cid,
        "repeat": repeat,
        "tags": tags,
        "vars": {"question": f"q{case}", "doc": f"d{case % 5}"} if rng.random() < 0.8 else {},
        "latency_ms": None if rng.random() < 0.1 else round(rng.random() * 900, 3),
        "cached": rng.random() < 0.2,
        "cost_usd": None if rng.random() < 0.03 else round(rng.random() / 1000, 7),
        "usage": Usage(input_tokens=rng.randrange(500), output_tokens=rng.randrange(90)),
    }
    if rng.random() < 0.5:
        common["metadata"] = {"thread": f"t{case % 4}"}
    if rng.random() < 0.06:
        return CaseRecord(
            **common,
            outcome=Outcome.ERROR,
            error=ErrorInfo(kind="timeout", message=f"no  response\n{case}"),
        )
    names = [f"check-{j}" for j in range(rng.randrange(4))]
    if names and rng.random() < 0.1:
        names.append(names[0])  # two results under one name
    checks = [
        CheckResult(name=n, outcome=(o := _outcome(rng, pass_p)), reason="" if o is Outcome.PASS
                    or rng.random() < 0.2 else f"why {n} " * rng.randrange(1, 60))
        for n in names
    ]  # fmt: skip
    judges = []
    for name in ("grounded", "tone")[: rng.randrange(3)]:
        o = _outcome(rng, pass_p)
        judges.append(
            JudgeVerdict(
                name=name,
                version="v1",
                outcome=o,
                reasoning="" if rng.random() < 0.3 else f"judged {o.value}",
                error=ErrorInfo(kind="parse", message="bad verdict")
                if o is Outcome.ERROR
                else None,
                cost_usd=None if rng.random() < 0.05 else 0.0002,
            )
        )
    outcome = combine([c.outcome for c in checks] + [j.outcome for j in judges])
    if rng.random() < 0.03:
        outcome = rng.choice(_OUT)  # a stored record need not agree with its graders
    return CaseRecord(
        **common,
        outcome=outcome,
        output=f"answer {case} \ud800" if rng.random() < 0.05 else f"answer {case}",
        checks=checks,
        judges=judges,
        truncated=rng.random() < 0.05,
    )


def write_pair(root: Path, seed: int) -> tuple[Path, Path]:
    """BASE and HEAD of one seed under ``root``: a shared core of cases, a few only in one run,
    HEAD a little worse; some lines superseded by a later one for the same (case, repeat)."""
    rng = random.Random(seed)
    repeats = rng.choice([1, 1, 2, 3])
    n = rng.randrange(30, 90)
    paths = []
    for side, pass_p, cases in (
        ("base", 0.8, range(0, n)),
        ("head", 0.7, range(rng.randrange(0, 4), n + rng.randrange(0, 4))),
    ):
        records = [_record(rng, c, r, pass_p) for r in range(repeats) for c in cases]
        path = write_run(
            root,
            records,
            prompt_version=f"p-{side}",
            run_id=f"{side}-{seed}",
            repeats=repeats,
            judge_versions={"grounded": "v1"},
        )
        # a resumed run: later lines supersede earlier ones of the same (case, repeat)
        again = [
            _record(rng, c, r, pass_p) for r in range(repeats) for c in cases if rng.random() < 0.1
        ]
        with (path / RESULTS).open("a", encoding="utf-8") as fh:
            fh.writelines(encode_record(rec) for rec in again)
        paths.append(path)
    return paths[0], paths[1]


def main() -> None:
    """``python -m tests.analysis.random_runs OUT``: the comparison of every pair in CASES as
    JSON (run paths relative), by the evalkit on ``sys.path``. The committed golden file was
    written by the implementation before the fast reader (commit ab9290f)."""
    import json
    import sys
    import tempfile

    from evalkit.analysis.compare import compare_runs
    from evalkit.storage.store import load_run

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed, key in CASES:
            b, h = write_pair(Path(tmp) / str(seed), seed)
            data = compare_runs(load_run(b), load_run(h), cluster_key=key).model_dump(mode="json")
            for side in ("base", "head"):
                data[side]["path"] = data[side]["path"].removeprefix(tmp)
            out[f"{seed}:{key}"] = data
    text = json.dumps(out, indent=1, sort_keys=True) + "\n"
    Path(sys.argv[1]).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
