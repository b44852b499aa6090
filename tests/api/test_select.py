"""Subsets, stratified samples and shards (evalkit.api.select)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.api.select import (
    UNTAGGED,
    Selection,
    Shard,
    resolve_selection,
    select_cases,
    shard_of,
    stratum,
)
from evalkit.base.exceptions import InputError
from evalkit.model.config import PreparedCase
from evalkit.model.golden import Case
from evalkit.storage.store import write_manifest


def cases(n: int, tags: list[list[str]] | None = None) -> list[PreparedCase]:
    out = []
    for i in range(n):
        t = tags[i % len(tags)] if tags else []
        out.append(PreparedCase(case=Case(id=f"c{i:04d}", tags=t), messages=[], checks=[]))
    return out


def ids(selected: list[PreparedCase]) -> list[str]:
    return [pc.case.id for pc in selected]


def test_case_and_tag_filters_keep_file_order_and_combine_with_and() -> None:
    pool = cases(6, tags=[["a"], ["b"], ["a", "b"]])
    assert ids(select_cases(pool, Selection(cases=("c0003", "c0000"))).cases) == ["c0000", "c0003"]
    # tags: any of them; case and tag: both must hold
    assert ids(select_cases(pool, Selection(tags=("b",))).cases) == [
        "c0001",
        "c0002",
        "c0004",
        "c0005",
    ]
    both = Selection(cases=("c0000", "c0001"), tags=("b",))
    assert ids(select_cases(pool, both).cases) == ["c0001"]


def test_unknown_case_and_unused_tag_are_errors_naming_the_flag() -> None:
    pool = cases(3)
    with pytest.raises(InputError) as exc:
        select_cases(pool, Selection(cases=("c0001", "nope")))
    assert exc.value.field == "--case" and "'nope'" in exc.value.message
    with pytest.raises(InputError) as exc:
        select_cases(pool, Selection(tags=("ghost",)))
    assert exc.value.field == "--tag" and "'ghost'" in exc.value.message


def test_limit_keeps_the_first_n() -> None:
    assert ids(select_cases(cases(5), Selection(limit=2)).cases) == ["c0000", "c0001"]


def test_shard_parse_and_errors() -> None:
    assert Shard.parse("2/4") == Shard(2, 4)
    assert str(Shard(2, 4)) == "2/4"
    for bad in ("0/4", "5/4", "2", "a/b", "1/0", "-1/3"):
        with pytest.raises(InputError) as exc:
            Shard.parse(bad)
        assert exc.value.field == "--shard"


def test_shards_partition_the_cases() -> None:
    pool = cases(200)
    parts = [ids(select_cases(pool, Selection(shard=Shard(i, 4))).cases) for i in range(1, 5)]
    flat = [c for part in parts for c in part]
    assert sorted(flat) == ids(pool)  # every case in exactly one shard
    assert len(set(flat)) == len(flat)
    # roughly even: a hash, not a round robin, so allow slack (binomial sd ~6 at n=200)
    assert all(25 <= len(p) <= 75 for p in parts), [len(p) for p in parts]


def test_shard_of_a_case_does_not_move_when_cases_are_added() -> None:
    before = {pc.case.id: shard_of(pc.case.id, 3) for pc in cases(50)}
    grown = cases(80)
    after = {pc.case.id: shard_of(pc.case.id, 3) for pc in grown}
    assert all(after[k] == v for k, v in before.items())
    # and the value is a pure function of the id (sha256), stable across processes
    import hashlib

    expected = int.from_bytes(hashlib.sha256(b"c0007").digest()[:8], "big") % 3 + 1
    assert shard_of("c0007", 3) == expected


def test_stratified_sample_allocates_in_proportion_by_largest_remainder() -> None:
    # strata: a 60, b 30, a+b 10 (tag sets), sample 15 -> quotas 9, 4.5, 1.5 -> 9, 5, 1?
    tags = [["a"]] * 6 + [["b"]] * 3 + [["b", "a"]]
    pool = cases(100, tags=tags)
    got = select_cases(pool, Selection(sample=15, seed=3))
    assert len(got.cases) == 15
    per = Counter(stratum(pc.case.tags) for pc in got.cases)
    # quotas: a 9.0, a,b 1.5, b 4.5; remainders tie at .5 -> broken by name: "a,b" before "b"
    assert per == {"a": 9, "a,b": 2, "b": 4}
    assert got.strata == {
        "a": {"cases": 60, "sampled": 9},
        "a,b": {"cases": 10, "sampled": 2},
        "b": {"cases": 30, "sampled": 4},
    }
    assert got.population == 100


@given(
    n=st.integers(1, 60),
    sizes=st.lists(st.integers(1, 20), min_size=1, max_size=5),
    seed=st.integers(0, 10),
)
def test_stratified_sample_properties(n: int, sizes: list[int], seed: int) -> None:
    pool: list[PreparedCase] = []
    for s, size in enumerate(sizes):
        for j in range(size):
            tags = [f"t{s}"] if s else []
            pool.append(PreparedCase(case=Case(id=f"s{s}-{j}", tags=tags), messages=[], checks=[]))
    got = select_cases(pool, Selection(sample=n, seed=seed))
    total = len(pool)
    assert len(got.cases) == min(n, total)
    assert len(set(ids(got.cases))) == len(got.cases)
    # same seed, same draw; file order kept
    assert ids(got.cases) == ids(select_cases(pool, Selection(sample=n, seed=seed)).cases)
    order = {c: i for i, c in enumerate(ids(pool))}
    assert ids(got.cases) == sorted(ids(got.cases), key=order.__getitem__)
    per = Counter(stratum(pc.case.tags) for pc in got.cases)
    for s, size in enumerate(sizes):
        key = f"t{s}" if s else UNTAGGED
        quota = min(n, total) * size / total
        assert abs(per.get(key, 0) - quota) < 1  # within one case of its proportional share


def test_different_seeds_draw_different_samples() -> None:
    pool = cases(100)
    draws = {tuple(ids(select_cases(pool, Selection(sample=10, seed=s)).cases)) for s in range(5)}
    assert len(draws) == 5


def test_shards_of_a_sample_are_that_sample() -> None:
    pool = cases(90, tags=[["x"], ["y"], []])
    whole = ids(select_cases(pool, Selection(sample=20, seed=1)).cases)
    parts = [
        ids(select_cases(pool, Selection(sample=20, seed=1, shard=Shard(i, 3))).cases)
        for i in (1, 2, 3)
    ]
    assert sorted(c for p in parts for c in p) == sorted(whole)


def test_flags_round_trip_through_the_manifest() -> None:
    sel = Selection(cases=("a",), tags=("t",), sample=5, seed=9, limit=3, shard=Shard(1, 2))
    assert Selection.from_flags(sel.flags()) == sel
    assert Selection().flags() == {} and Selection().is_all


def test_resume_takes_the_recorded_selection_and_refuses_another(tmp_path: Path) -> None:
    write_manifest(tmp_path, {"selection": {"flags": {"shard": "2/3"}}})
    assert resolve_selection(None, tmp_path) == Selection(shard=Shard(2, 3))
    assert resolve_selection(Selection(shard=Shard(2, 3)), tmp_path) == Selection(shard=Shard(2, 3))
    with pytest.raises(InputError) as exc:
        resolve_selection(Selection(limit=1), tmp_path)
    assert exc.value.field == "selection" and "manifest.json" in str(exc.value)
    write_manifest(tmp_path, {})
    assert resolve_selection(None, tmp_path).is_all
