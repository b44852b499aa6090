"""Durations and sizes as people write them on a command line (``30d``, ``500MB``), and back."""

from __future__ import annotations

import re

_DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SIZE = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_NUMBER_UNIT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


def parse_duration(text: str) -> float:
    """Seconds in ``text``: a number and a unit, s m h d w (``90m``, ``30d``)."""
    number, unit = _split(text)
    if number is None or unit.lower() not in _DURATION:
        raise ValueError(f"{text!r} is not a duration: write a number and s, m, h, d or w (30d)")
    return number * _DURATION[unit.lower()]


def parse_size(text: str) -> int:
    """Bytes in ``text``: a number and an optional unit, B KB MB GB TB (powers of 1000) or
    KiB MiB GiB TiB (powers of 1024); a bare number is bytes."""
    number, unit = _split(text)
    factor = _SIZE.get((unit or "b").lower())
    if number is None or factor is None:
        raise ValueError(f"{text!r} is not a size: write a number and B, KB, MB, GB (500MB)")
    return int(number * factor)


def _split(text: str) -> tuple[float | None, str]:
    match = _NUMBER_UNIT.fullmatch(text)
    if match is None:
        return None, ""
    return float(match.group(1)), match.group(2)


def human_size(n: int) -> str:
    """``n`` bytes in the largest decimal unit that keeps it at least 1 (``12.3 MB``)."""
    for unit, factor in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} B"
