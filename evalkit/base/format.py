"""How numbers read in reports and terminal output, in one place."""

from __future__ import annotations


def usd(x: float | None) -> str:
    """A cost in dollars with four decimals; ``unknown`` when a price was missing (never $0)."""
    return "unknown" if x is None else f"${x:.4f}"


def pct(x: float | None, missing: str = "n/a") -> str:
    """A rate in [0, 1] as a percentage with one decimal; ``missing`` when unknown."""
    return missing if x is None else f"{x:.1%}"
