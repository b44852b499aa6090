"""The one way the CLI makes a rich Console: the terminal's width, or no wrapping when piped.

rich falls back to 80 columns when stdout is not a terminal, which folds every table in a CI log
or a ``| less``; there nothing reads the width, so a wide console keeps each row on one line.
An explicit ``COLUMNS`` still wins.
"""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console

#: width when stdout is a pipe or a file: rows stay whole; tables do not stretch to fill it
PIPED_WIDTH = 200


def make_console(*, min_width: int = 0, **kwargs: Any) -> Console:
    """A Console as wide as the terminal (at least ``min_width``), or PIPED_WIDTH when piped."""
    console = Console(**kwargs)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPED_WIDTH
    if console.width < min_width:
        console.width = min_width
    return console
