"""Shared helpers: parse a check from config and grade one output with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.grading.check import Check, CheckContext, parse_check
from evalkit.model.golden import Case, ContextDoc
from evalkit.model.outcome import CheckResult

FIXTURES = Path(__file__).parent / "fixtures"

POLICY = [
    ContextDoc(id="policy-3", text="Orders more than 7 days late are refundable in full."),
    ContextDoc(id="policy-4", text="Store credit   never expires.\nGift cards are not refundable."),
]


def case(**kw: Any) -> Case:
    kw.setdefault("id", "c1")
    return Case(**kw)


def ctx(output: Any, the_case: Case | None = None, **kw: Any) -> CheckContext:
    return CheckContext(output=output, case=the_case or case(), base_dir=FIXTURES, **kw)


def make(raw: dict[str, Any]) -> Check:
    return parse_check(raw, path="evalkit.yaml", line=7, base_dir=FIXTURES)


def grade(raw: dict[str, Any], output: Any, the_case: Case | None = None, **kw: Any) -> CheckResult:
    return make(raw).evaluate(ctx(output, the_case, **kw))
