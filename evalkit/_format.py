"""How numbers read in reports and terminal output, in one place."""

from __future__ import annotations


def pct(x: float | None, missing: str = "n/a") -> str:
    """A rate in [0, 1] as a percentage with one decimal; ``missing`` when unknown."""
    return missing if x is None else f"{x:.1%}"
