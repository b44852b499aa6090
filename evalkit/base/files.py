"""Reading user files with errors that say which file and what went wrong."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from evalkit.base.exceptions import InputError


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file; unreadable, non-UTF-8 or NUL-holding files are InputErrors naming
    the line (a NUL byte is never text: a binary file, or a torn write, and parsers would
    otherwise keep it inside a value or drop it)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=p) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path=p) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=p) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            path=p,
            line=line,
        ) from None
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise InputError("a NUL byte is not allowed in a text file", path=p, line=line)
    return text


class DuplicateKeyError(ValueError):
    """A JSON object with the same key twice (``json.loads`` would keep only the last)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"duplicate key {key!r} in a JSON object (only the last would be kept)")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(key)
        out[key] = value
    return out


def loads_json(text: str) -> Any:
    """``json.loads`` for user files: a duplicate key raises :class:`DuplicateKeyError`."""
    return json.loads(text, object_pairs_hook=_unique_pairs)


def csv_header(fieldnames: Sequence[str] | None, path: str | Path) -> list[str]:
    """A CSV file's column names, stripped; a repeated one is an InputError (a ``DictReader``
    would silently keep only the last column's cells)."""
    header = [name.strip() for name in fieldnames or ()]
    for index, name in enumerate(header):
        if name in header[:index]:
            raise InputError(
                f"duplicate column {name!r} (only the last would be kept)",
                path=path,
                line=1,
                field=name,
            )
    return header


def write_atomic(path: str | Path, text: str | Iterable[str]) -> None:
    """Write via a temp file and rename, so a crash never leaves a half-written file. ``text``
    may come in pieces (a generator), written as they come."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        # a lone surrogate (model output is hostile data) is written as \udXXX, not a crash
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
            if isinstance(text, str):
                fh.write(text)
            else:
                fh.writelines(text)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
