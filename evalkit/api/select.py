"""Subsets and shards of a suite: ``--case``, ``--tag``, ``--sample N --seed S``, ``--limit``,
``--shard I/N``.

The selection is applied in one fixed order, whatever the order of the flags: filter by case id
and tag, draw the stratified sample, keep the first ``limit`` cases, then keep this shard. So the
shards of a sample together are that sample, and ``evalkit merge`` of all shards is the run
without ``--shard``. It is recorded in the manifest (``selection``), read back on ``--resume`` so a
resumed subset run stays that subset, and shown in the summary: a sample's figures *estimate* the
full suite, other subsets describe only the cases they ran.

Shards are assigned by a hash of the case id alone, so adding or removing a case never moves
another case to a different shard (CI caches and per-shard history stay meaningful).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evalkit.base.exceptions import InputError
from evalkit.model.config import LoadedSuite, PreparedCase

#: the stratum of a case without tags
UNTAGGED = "(untagged)"


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"`` → Shard(2, 4); anything else is an InputError naming the flag."""
        head, sep, tail = text.partition("/")
        try:
            index, count = int(head), int(tail)
        except ValueError:
            index = count = 0
        if not sep or count < 1 or not 1 <= index <= count:
            raise InputError(
                f"--shard {text!r}: expected I/N with 1 <= I <= N, e.g. 2/4", field="--shard"
            )
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, case_id: str) -> bool:
        """Whether ``case_id`` belongs to this shard (a hash of the id alone)."""
        return shard_of(case_id, self.count) == self.index


def shard_of(case_id: str, count: int) -> int:
    """The 1-based shard of ``case_id`` among ``count``: stable under added or removed cases."""
    digest = hashlib.sha256(case_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


@dataclass(frozen=True)
class Selection:
    """Which cases of a suite a run covers (empty: all of them)."""

    cases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    sample: int | None = None
    seed: int = 0
    limit: int | None = None
    shard: Shard | None = None

    @property
    def is_all(self) -> bool:
        return not (self.cases or self.tags or self.sample or self.limit or self.shard)

    def flags(self) -> dict[str, Any]:
        """The selection as recorded in the manifest (only what was asked for)."""
        out: dict[str, Any] = {}
        if self.cases:
            out["case"] = list(self.cases)
        if self.tags:
            out["tag"] = list(self.tags)
        if self.sample is not None:
            out["sample"] = self.sample
            out["seed"] = self.seed
        if self.limit is not None:
            out["limit"] = self.limit
        if self.shard is not None:
            out["shard"] = str(self.shard)
        return out

    @classmethod
    def from_flags(cls, flags: dict[str, Any]) -> Selection:
        """Read back :meth:`flags` (a manifest's ``selection.flags``)."""
        shard = flags.get("shard")
        return cls(
            cases=tuple(flags.get("case", ())),
            tags=tuple(flags.get("tag", ())),
            sample=flags.get("sample"),
            seed=int(flags.get("seed", 0)),
            limit=flags.get("limit"),
            shard=Shard.parse(shard) if shard else None,
        )

    def without_shard(self) -> Selection:
        return replace(self, shard=None)


@dataclass
class Selected:
    """The outcome of a selection: the cases to run and what the manifest records of it."""

    cases: list[PreparedCase]
    #: cases in the suite before any selection
    total: int
    #: cases the sample was drawn from (after --case/--tag), when sampled
    population: int | None = None
    strata: dict[str, dict[str, int]] = field(default_factory=dict)


def select_cases(cases: Sequence[PreparedCase], selection: Selection) -> Selected:
    """Apply ``selection`` to ``cases`` (in golden-file order); errors name the flag."""
    total = len(cases)
    chosen = list(cases)
    if selection.cases:
        known = {pc.case.id for pc in chosen}
        missing = [c for c in selection.cases if c not in known]
        if missing:
            raise InputError(
                f"--case: no case {', '.join(map(repr, missing))} in the golden set",
                field="--case",
            )
        wanted = set(selection.cases)
        chosen = [pc for pc in chosen if pc.case.id in wanted]
    if selection.tags:
        wanted = set(selection.tags)
        chosen = [pc for pc in chosen if wanted.intersection(pc.case.tags)]
        if not chosen:
            raise InputError(
                f"--tag: no case has the tag {' or '.join(map(repr, selection.tags))}",
                field="--tag",
            )
    out = Selected(cases=chosen, total=total)
    if selection.sample is not None:
        out.population = len(chosen)
        out.cases, out.strata = _stratified_sample(chosen, selection.sample, selection.seed)
    if selection.limit is not None:
        out.cases = out.cases[: selection.limit]
    if selection.shard is not None:
        out.cases = [pc for pc in out.cases if selection.shard.holds(pc.case.id)]
    return out


def stratum(tags: Sequence[str]) -> str:
    """A case's stratum for sampling: its set of tags (``(untagged)`` without any)."""
    return ",".join(sorted(set(tags))) or UNTAGGED


def _stratified_sample(
    cases: list[PreparedCase], n: int, seed: int
) -> tuple[list[PreparedCase], dict[str, dict[str, int]]]:
    """``n`` cases drawn without replacement, allocated to strata (tag sets) in proportion to
    their size by largest remainder, so every stratum's share of the sample matches its share
    of the suite to within one case. Kept in golden-file order."""
    if n >= len(cases):
        counts = _strata_sizes(cases)
        return list(cases), {k: {"cases": v, "sampled": v} for k, v in counts.items()}
    sizes = _strata_sizes(cases)
    keys = sorted(sizes)
    quotas = {k: n * sizes[k] / len(cases) for k in keys}
    alloc = {k: int(quotas[k]) for k in keys}
    # largest remainders first; ties broken by stratum name, so the draw is reproducible
    by_remainder = sorted(keys, key=lambda k: (-(quotas[k] - alloc[k]), k))
    for k in by_remainder[: n - sum(alloc.values())]:
        alloc[k] += 1
    rng = random.Random(seed)
    picked: set[int] = set()
    for k in keys:
        members = [i for i, pc in enumerate(cases) if stratum(pc.case.tags) == k]
        picked.update(rng.sample(members, alloc[k]))
    strata = {k: {"cases": sizes[k], "sampled": alloc[k]} for k in keys}
    return [pc for i, pc in enumerate(cases) if i in picked], strata


def _strata_sizes(cases: list[PreparedCase]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for pc in cases:
        key = stratum(pc.case.tags)
        sizes[key] = sizes.get(key, 0) + 1
    return sizes


def apply_selection(suite: LoadedSuite, selection: Selection) -> tuple[LoadedSuite, dict[str, Any]]:
    """The suite narrowed to ``selection``, and the manifest's ``selection`` entry (empty when
    the run covers the whole suite)."""
    if selection.is_all:
        return suite, {}
    selected = select_cases(suite.cases, selection)
    # an empty shard is fine (a CI matrix wider than a small suite); any other empty pick is a typo
    if not selected.cases and selection.shard is None:
        raise InputError(
            f"the selection {selection.flags()} leaves no case to run "
            f"(of {selected.total} in the suite)",
            field="--case/--tag",
        )
    record: dict[str, Any] = {
        "flags": selection.flags(),
        "selected": len(selected.cases),
        "total": selected.total,
    }
    if selection.sample is not None:
        record["population"] = selected.population
        record["strata"] = selected.strata
    return replace(suite, cases=selected.cases), record


def resolve_selection(selection: Selection | None, resume: Path | None) -> Selection:
    """The selection a run applies: the one asked for, or on resume the resumed run's own
    (so a resumed shard stays that shard). Asking for a different one on resume is an error."""
    if resume is None:
        return selection or Selection()
    from evalkit.storage.store import MANIFEST, read_manifest

    recorded = Selection.from_flags((read_manifest(resume).get("selection") or {}).get("flags", {}))
    if selection is not None and selection != recorded:
        raise InputError(
            f"cannot resume with the selection {selection.flags()}: that run covers "
            f"{recorded.flags() or 'the whole suite'}; resume without selection flags",
            path=resume / MANIFEST,
            field="selection",
        )
    return recorded
