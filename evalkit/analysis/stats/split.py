"""The fixed dev/holdout split of labelled cases, so a rubric is tuned on one half and judged
on the other."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Literal

_SPLIT_SALT = "evalkit-calibration-split-v1"


def split_of(
    case_id: str, holdout_fraction: float = 0.5, *, salt: str = _SPLIT_SALT
) -> Literal["dev", "holdout"]:
    """Assign a case to dev or holdout by SHA-256 of ``salt + case_id``.

    Deterministic everywhere (no ``hash()``), independent of the other cases, and monotone in
    the fraction: raising ``holdout_fraction`` only moves cases from dev to holdout. Every output
    of one case (repeats, prompt versions) lands on the same side, so nothing leaks.
    """
    if not 0.0 <= holdout_fraction <= 1.0:
        raise ValueError(f"holdout_fraction must be in [0, 1], got {holdout_fraction}")
    digest = hashlib.sha256(f"{salt}\x00{case_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0**64
    return "holdout" if u < holdout_fraction else "dev"


def split_case_ids(
    case_ids: Iterable[str], holdout_fraction: float = 0.5, *, salt: str = _SPLIT_SALT
) -> tuple[list[str], list[str]]:
    """``(dev, holdout)`` lists of case ids, in input order."""
    dev: list[str] = []
    holdout: list[str] = []
    for cid in case_ids:
        (holdout if split_of(cid, holdout_fraction, salt=salt) == "holdout" else dev).append(cid)
    return dev, holdout
