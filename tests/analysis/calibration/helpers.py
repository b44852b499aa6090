"""A tiny project with a stored run, written straight to disk (no engine, no model)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord, JudgeVerdict
from evalkit.storage.store import append_record, open_results, write_manifest

JUDGE = "grounded"


def judge_yaml(
    rubric: str = "PASS if every claim is in the documents.", scale: str = "binary"
) -> str:
    return yaml.safe_dump(
        {"scale": scale, "model": {"provider": "anthropic", "model": "m"}, "rubric": rubric}
    )


def write_project(root: Path, n_cases: int = 8, scale: str = "binary") -> Path:
    """evalkit.yaml, a golden set with context and references, a prompt and a judge file."""
    config = {
        "suites": {
            "demo": {
                "goldens": "goldens/demo.yaml",
                "target": {
                    "provider": "scripted",
                    "model": "m",
                    "prompt": "p.yaml",
                    "script": "s.yaml",
                },
                "judges": [JUDGE],
            }
        }
    }
    (root / "evalkit.yaml").write_text(yaml.safe_dump(config), "utf-8")
    cases = [
        {
            "id": f"case-{i}",
            "vars": {"question": f"question number {i}?"},
            "expected": f"reference answer {i}",
            "context": [{"id": f"doc-{i}", "text": f"policy text {i}"}],
        }
        for i in range(n_cases)
    ]
    (root / "goldens").mkdir(exist_ok=True)
    (root / "goldens/demo.yaml").write_text(yaml.safe_dump(cases), "utf-8")
    (root / "p.yaml").write_text('user: "{{ question }}"\n', "utf-8")
    (root / "judges").mkdir(exist_ok=True)
    (root / f"judges/{JUDGE}.yaml").write_text(judge_yaml(scale=scale), "utf-8")
    return root / "evalkit.yaml"


def write_run(
    root: Path, run_id: str, verdicts: list[str], *, version: str = "v1", judge: str = JUDGE
) -> Path:
    """A run whose case ``case-i`` produced ``output {run_id} {i}`` judged ``verdicts[i]``."""
    path = root / "runs" / "demo" / "pv1" / run_id
    path.mkdir(parents=True)
    write_manifest(path, {"run_id": run_id, "suite": "demo", "golden_path": "goldens/demo.yaml"})
    with open_results(path) as fh:
        for i, verdict in enumerate(verdicts):
            outcome = Outcome(verdict)
            append_record(
                fh,
                CaseRecord(
                    case_id=f"case-{i}",
                    vars={"question": f"question number {i}?"},
                    outcome=outcome,
                    output=f"output {run_id} {i}",
                    judges=[
                        JudgeVerdict(
                            name=judge,
                            version=version,
                            outcome=outcome,
                            reasoning=f"SECRET-JUDGE-REASONING {i}",
                        )
                    ],
                ),
            )
    return path


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
