"""Reading user files with errors that say which file and what went wrong."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from evalkit.exceptions import InputError


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


def write_atomic(path: str | Path, text: str) -> None:
    """Write via a temp file and rename, so a crash never leaves a half-written file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
