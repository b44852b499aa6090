"""The pairwise judge's result as terminal lines and as a markdown section of the comparison."""

from __future__ import annotations

from evalkit.base.escape import markdown, markdown_code, truncate
from evalkit.base.format import pct, usd
from evalkit.grading.judge.pairwise import PairwiseResult


def _pct(x: float | None) -> str:
    return pct(x, "–")


def pairwise_summary_lines(result: PairwiseResult) -> list[str]:
    """The headline figures as plain lines (terminal output)."""
    r = result
    return [
        f"pairwise judge {r.judge} ({r.judge_version}): {r.head_label} (head) vs "
        f"{r.base_label} (base), {r.n_judged} of {r.n_matched} cases judged in both orders",
        f"  head wins {_pct(r.head_win_rate)} ({r.head_wins}), loses {_pct(r.head_loss_rate)} "
        f"({r.head_losses}), ties {_pct(r.tie_rate)} ({r.ties}); errors {r.n_errors}",
        f"  position consistency {_pct(r.position_consistency)}; first-position preference "
        f"{_pct(r.first_position_preference)} (50% = unbiased); {r.requests} judge requests, "
        f"{usd(r.cost_usd)}",
    ]


def pairwise_markdown(result: PairwiseResult, *, max_cases: int = 20) -> str:
    """A short markdown section for the comparison report / PR comment."""
    r = result
    lines = [
        f"### Pairwise judge {markdown_code(r.judge)}: {markdown(r.head_label)} vs "
        f"{markdown(r.base_label)}",
        "",
        f"Each of {r.n_matched} cases judged in both orders (A/B swapped); a verdict that flips "
        "with the order counts as a tie.",
        "",
        "| head wins | head loses | ties | errors | position consistency | first-position pref. |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {_pct(r.head_win_rate)} ({r.head_wins}) | {_pct(r.head_loss_rate)} ({r.head_losses})"
        f" | {_pct(r.tie_rate)} ({r.ties}) | {r.n_errors} | {_pct(r.position_consistency)} | "
        f"{_pct(r.first_position_preference)} |",
        "",
    ]
    notable = [c for c in r.cases if c.winner in ("base", None) or c.consistent is False]
    if notable:
        lines += [
            "<details><summary>Cases head lost, inconsistent or not judged</summary>",
            "",
            "| case | result | reasoning |",
            "|---|---|---|",
        ]
        for c in notable[:max_cases]:
            if c.winner is None:
                err = c.base_first.error or c.head_first.error
                what, why = "error", f"{err.kind}: {err.message}" if err else ""
            elif c.consistent is False:
                what = "tie (order-dependent)"
                why = f"{c.base_first.verdict} / {c.head_first.verdict} with base / head first"
            else:
                what, why = "base wins", c.base_first.reasoning
            why = markdown(truncate(" ".join(why.split()), 160))
            lines.append(f"| {markdown(c.case_id)} | {what} | {why} |")
        if len(notable) > max_cases:
            lines.append(f"| … | {len(notable) - max_cases} more | |")
        lines += ["", "</details>", ""]
    return "\n".join(lines)
