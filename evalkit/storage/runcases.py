"""The golden cases a stored run was made from, for judging its outputs again or in pairs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from evalkit.model.golden import Case, load_golden
from evalkit.model.record import CaseRecord
from evalkit.storage.store import StoredRun

if TYPE_CHECKING:
    from evalkit.model.config import ProjectConfig

Warn = Callable[[str], None]


def stored_case(record: CaseRecord) -> Case:
    """A case rebuilt from what a record stores (vars and tags; no context or reference)."""
    return Case(id=record.case_id, vars=record.vars, tags=record.tags)


def run_cases(
    run: StoredRun, project: ProjectConfig | None, warn: Warn | None = None
) -> dict[str, Case]:
    """The golden cases a stored run was made from (context, expected, per-case judges).

    Read from the manifest's ``golden_path``; a changed golden set is used with a warning, a
    missing one falls back to the vars and tags stored in each record (no context).
    """
    say = warn or (lambda message: None)
    stored = {r.case_id: stored_case(r) for r in run.records}
    rel = run.manifest.get("golden_path")
    if not rel or project is None:
        return stored
    path = project.resolve(rel)
    if not path.exists():
        say(f"golden set {rel} not found: judging with the stored vars only (no context)")
        return stored
    golden = load_golden(path)
    if run.manifest.get("golden_sha") and golden.sha != run.manifest["golden_sha"]:
        say(f"golden set {rel} changed since run {run.run_id}; using its current cases")
    return {**stored, **{c.id: c for c in golden.cases}}
