from __future__ import annotations

import pytest

from evalkit.base.units import human_size, parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30d", 30 * 86400),
        ("12h", 43200),
        ("90m", 5400),
        ("2w", 14 * 86400),
        ("1.5h", 5400),
        ("45s", 45),
        (" 7D ", 7 * 86400),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("500MB", 500 * 10**6),
        ("1GB", 10**9),
        ("2GiB", 2 * 2**30),
        ("64kib", 65536),
        ("1.5 mb", 1_500_000),
        ("123", 123),
        ("10b", 10),
    ],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["abc", "30", "30y", "-1d", "", "d", "1e3d"])
def test_a_bad_duration_says_what_to_write(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a duration: write a number and s, m, h, d or w"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["abc", "5 apples", "-5MB", "MB", "1,000"])
def test_a_bad_size_says_what_to_write(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a size"):
        parse_size(text)


def test_human_size() -> None:
    assert [human_size(n) for n in (0, 999, 1000, 12_345_678, 3 * 10**9)] == [
        "0 B",
        "999 B",
        "1.0 kB",
        "12.3 MB",
        "3.0 GB",
    ]
