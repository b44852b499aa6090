"""Choosing which outputs of a run a human labels: at random (default) or stratified by verdict.

Random sampling gives labels that are a simple random sample of the run: their figures need no
correction and PPI++ may combine them with the run's verdicts. Stratified sampling draws equal
numbers per judge verdict so that a rare class (the judge's fails, often) gets enough labels; it
records each stratum's size so that :mod:`evalkit.analysis.calibration.weights` can undo the
over-sampling when computing TPR, TNR and kappa.

Each session draws from outputs not labelled yet, so successive sessions on one run add up to
one larger sample of the same kind (drawing without replacement from what remains is the same
as drawing the total at once).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from evalkit.analysis.calibration.labels import Sampling, output_sha
from evalkit.model.record import CaseRecord

Strategy = Literal["random", "stratified"]


@dataclass(frozen=True)
class Candidate:
    """One distinct output of a run that could be labelled, with the run judge's verdict."""

    record: CaseRecord
    sha: str
    verdict: str  # pass | fail | error | none (the judge did not grade it)


@dataclass(frozen=True)
class Drawn:
    candidate: Candidate
    sampling: Sampling


def candidates(records: Iterable[CaseRecord], judge: str) -> list[Candidate]:
    """Distinct outputs (by sha, first occurrence) of records that produced one."""
    seen: set[str] = set()
    out: list[Candidate] = []
    for rec in records:
        if rec.output is None or rec.error is not None:
            continue
        sha = output_sha(rec.output)
        if sha in seen:
            continue
        seen.add(sha)
        verdict = next((j.outcome.value for j in rec.judges if j.name == judge), "none")
        out.append(Candidate(record=rec, sha=sha, verdict=verdict))
    return out


def _allocate(available: dict[str, int], n: int) -> dict[str, int]:
    """Equal shares per stratum, capped by what each has; leftovers go to strata with room."""
    take = dict.fromkeys(available, 0)
    left = min(n, sum(available.values()))
    while left > 0:
        open_ = sorted(s for s in available if take[s] < available[s])
        for s in open_:
            if left == 0:
                break
            take[s] += 1
            left -= 1
    return take


def draw_sample(
    pool: list[Candidate],
    n: int,
    strategy: Strategy,
    *,
    seed: int,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> list[Drawn]:
    """Up to ``n`` outputs not in ``exclude`` (shas already labelled), in a random order.

    Stratified draws record each stratum's full size in the run (labelled or not): the
    inclusion probability of an output is then (labels in its stratum) / (stratum size).
    """
    rng = random.Random(seed)
    remaining = [c for c in pool if c.sha not in exclude]
    population = len(pool)
    if strategy == "random":
        chosen = rng.sample(remaining, min(n, len(remaining)))
        return [Drawn(c, Sampling(mode="random", seed=seed, population=population)) for c in chosen]
    sizes: dict[str, int] = defaultdict(int)
    by_stratum: dict[str, list[Candidate]] = defaultdict(list)
    for c in pool:
        sizes[c.verdict] += 1
    for c in remaining:
        by_stratum[c.verdict].append(c)
    take = _allocate({s: len(v) for s, v in by_stratum.items()}, n)
    drawn: list[Drawn] = []
    for stratum in sorted(by_stratum):
        for c in rng.sample(by_stratum[stratum], take[stratum]):
            info = Sampling(
                mode="stratified",
                seed=seed,
                stratum=stratum,
                stratum_size=sizes[stratum],
                population=population,
            )
            drawn.append(Drawn(c, info))
    rng.shuffle(drawn)  # no blocks of one verdict: the labeller must not be able to guess it
    return drawn
