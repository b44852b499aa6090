from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.analysis.stats.split import split_case_ids, split_of


def test_split_is_stable_fractional_and_monotone() -> None:
    ids = [f"case-{i}" for i in range(2000)]
    dev, holdout = split_case_ids(ids)
    assert len(dev) + len(holdout) == 2000
    assert abs(len(holdout) - 1000) < 4 * math.sqrt(500)  # binomial(2000, 0.5)
    _, h30 = split_case_ids(ids, holdout_fraction=0.3)
    assert abs(len(h30) - 600) < 4 * math.sqrt(2000 * 0.21)
    assert set(h30) <= set(holdout)  # raising the fraction only moves dev -> holdout
    assert split_case_ids(ids, 0.0) == (ids, [])
    assert split_case_ids(ids, 1.0) == ([], ids)
    # Pinned: changing the hash or salt would silently reshuffle every user's dev/holdout sets.
    assert [split_of(i) for i in ("a", "b", "c", "d", "e", "refund-late-order")] == PINNED
    with pytest.raises(ValueError):
        split_of("a", 1.5)


ROOT = Path(__file__).resolve().parents[3]
PINNED = ["holdout", "holdout", "dev", "dev", "dev", "holdout"]


@pytest.mark.parametrize("seed", ["0", "12345"])
def test_split_is_the_same_in_another_process(seed: str) -> None:
    ids = [f"case-{i}" for i in range(300)]
    code = (
        "import json, sys; from evalkit.analysis.stats.split import split_of; "
        "print(json.dumps([split_of(i) for i in json.load(sys.stdin)]))"
    )
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": path}
    out = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(ids), env=env, cwd=ROOT,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout) == [split_of(i) for i in ids]
