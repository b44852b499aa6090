"""Pairwise comparison of two stored runs, judged in both orders to cancel position bias.

Every matched case is judged twice: once with BASE as A and HEAD as B, once swapped. The two
verdicts are mapped back to runs; when they agree that is the case's winner, when they do not
(the judge followed the position, not the content) the case is a **tie**. Reported:

* head win / loss / tie rates over the cases judged in both orders;
* position consistency: the share of those cases whose two verdicts agree;
* first-position preference: among single-order verdicts that picked a side, the share that
  picked A (0.5 means no position bias).

Scripted judges match these calls by prompt label ``"<label of A> vs <label of B>"`` (e.g.
``"v1 vs v2"``) and by the same pair of prompt versions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field

from evalkit.grading.judge.judge import Judge
from evalkit.model.golden import Case
from evalkit.model.outcome import Outcome
from evalkit.model.pricing import total_cost
from evalkit.model.provider import CallContext
from evalkit.model.record import CaseRecord, JudgeVerdict, Usage
from evalkit.storage.runcases import stored_case
from evalkit.storage.store import StoredRun

Side = Literal["base", "head", "tie"]


class PairCase(BaseModel):
    """One case judged in both orders."""

    case_id: str
    winner: Side | None = Field(description="None when either order could not be judged")
    consistent: bool | None = Field(description="both orders named the same winner")
    base_first: JudgeVerdict = Field(description="A = base, B = head")
    head_first: JudgeVerdict = Field(description="A = head, B = base")


class PairwiseResult(BaseModel):
    """Everything ``evalkit compare --pairwise`` reports; ``model_dump()`` is the JSON."""

    judge: str
    judge_version: str
    base_run: str
    head_run: str
    base_label: str
    head_label: str
    n_matched: int = Field(description="cases with an output in both runs")
    n_judged: int = Field(description="cases with a verdict in both orders")
    n_errors: int
    head_wins: int
    head_losses: int
    ties: int
    head_win_rate: float | None
    head_loss_rate: float | None
    tie_rate: float | None
    position_consistency: float | None
    first_position_preference: float | None
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = 0.0
    requests: int = 0
    cases: list[PairCase] = Field(default_factory=list)


def _label(run: StoredRun) -> str:
    m = run.manifest
    return str(m.get("prompt_label") or m.get("prompt_version") or run.run_id)


def _first_output(records: list[CaseRecord]) -> dict[str, CaseRecord]:
    """Per case, the first repeat that produced an output."""
    out: dict[str, CaseRecord] = {}
    for rec in sorted(records, key=lambda r: r.repeat):
        if rec.output is not None and rec.error is None:
            out.setdefault(rec.case_id, rec)
    return out


def _winner(verdict: JudgeVerdict, a_is: Side) -> Side | None:
    if verdict.outcome is Outcome.ERROR:
        return None
    if verdict.verdict == "tie":
        return "tie"
    b_is: Side = "head" if a_is == "base" else "base"
    return a_is if verdict.verdict == "A" else b_is


async def judge_pairs(
    base: StoredRun,
    head: StoredRun,
    judge: Judge,
    *,
    cases: Mapping[str, Case] | None = None,
    concurrency: int = 8,
) -> PairwiseResult:
    """Judge every case present in both runs in both orders (see the module docstring).

    ``cases`` supplies the golden cases (for context and expected answers); without it a case
    is rebuilt from the stored record's vars and tags.
    """
    base_out, head_out = _first_output(base.records), _first_output(head.records)
    matched = [cid for cid in base_out if cid in head_out]
    labels = {"base": _label(base), "head": _label(head)}
    versions = {
        "base": str(base.manifest.get("prompt_version", "")),
        "head": str(head.manifest.get("prompt_version", "")),
    }
    sem = asyncio.Semaphore(concurrency)

    def ctx(case_id: str, first: Side) -> CallContext:
        second: Side = "head" if first == "base" else "base"
        return CallContext(
            case_id=case_id,
            prompt_version=f"{versions[first]} vs {versions[second]}",
            prompt_label=f"{labels[first]} vs {labels[second]}",
        )

    async def one(case_id: str) -> PairCase:
        rec_b, rec_h = base_out[case_id], head_out[case_id]
        case = (cases or {}).get(case_id) or stored_case(rec_b)
        out_b, out_h = rec_b.output or "", rec_h.output or ""
        async with sem:
            first, second = await asyncio.gather(
                judge.compare(case, out_b, out_h, ctx(case_id, "base")),
                judge.compare(case, out_h, out_b, ctx(case_id, "head")),
            )
        w1, w2 = _winner(first, "base"), _winner(second, "head")
        if w1 is None or w2 is None:
            return PairCase(
                case_id=case_id, winner=None, consistent=None, base_first=first, head_first=second
            )
        return PairCase(
            case_id=case_id,
            winner=w1 if w1 == w2 else "tie",
            consistent=w1 == w2,
            base_first=first,
            head_first=second,
        )

    results = list(await asyncio.gather(*(one(cid) for cid in matched)))
    return _result(base, head, judge, labels, results)


def _rate(k: int, n: int) -> float | None:
    return k / n if n else None


def _result(
    base: StoredRun, head: StoredRun, judge: Judge, labels: dict[str, str], results: list[PairCase]
) -> PairwiseResult:
    judged = [r for r in results if r.winner is not None]
    n = len(judged)
    wins = sum(r.winner == "head" for r in judged)
    losses = sum(r.winner == "base" for r in judged)
    verdicts = [v for r in results for v in (r.base_first, r.head_first)]
    sided = [v for v in verdicts if v.outcome is not Outcome.ERROR and v.verdict in ("A", "B")]
    return PairwiseResult(
        judge=judge.name,
        judge_version=judge.version,
        base_run=base.run_id,
        head_run=head.run_id,
        base_label=labels["base"],
        head_label=labels["head"],
        n_matched=len(results),
        n_judged=n,
        n_errors=len(results) - n,
        head_wins=wins,
        head_losses=losses,
        ties=n - wins - losses,
        head_win_rate=_rate(wins, n),
        head_loss_rate=_rate(losses, n),
        tie_rate=_rate(n - wins - losses, n),
        position_consistency=_rate(sum(bool(r.consistent) for r in judged), n),
        first_position_preference=_rate(sum(v.verdict == "A" for v in sided), len(sided)),
        usage=Usage(
            input_tokens=sum(v.usage.input_tokens for v in verdicts),
            output_tokens=sum(v.usage.output_tokens for v in verdicts),
        ),
        cost_usd=total_cost([v.cost_usd for v in verdicts]),
        requests=sum(v.requests for v in verdicts),
        cases=results,
    )
