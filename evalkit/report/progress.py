"""The live progress bar of a run: pass/fail/error counts, silent when not on a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from evalkit.model.record import CaseRecord


class RunProgress:
    """Rich progress with live pass/fail/error counts; silent when not on a terminal."""

    def __init__(
        self,
        enabled: bool | None,
        total: int,
        name: str,
        counts: dict[str, int],
        *,
        status: Callable[[], str] | None = None,
    ) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        if os.environ.get("CI"):
            self.enabled = bool(enabled)
        self.total = total
        self.name = name
        self.counts = counts
        #: extra live figures, e.g. the adaptive concurrency and the 429 count
        self.status = status or (lambda: "")
        self._progress: Any = None

    def __enter__(self) -> Callable[[CaseRecord], None]:
        if not self.enabled:
            return lambda record: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "[green]✓ {task.fields[p]}[/] [red]✗ {task.fields[f]}[/] "
                "[yellow]! {task.fields[e]}[/] {task.fields[s]}"
            ),
            transient=False,
        )
        self._progress.start()
        from evalkit.base.escape import terminal

        name = terminal(self.name, markup=True)
        task = self._progress.add_task(name, total=self.total, p=0, f=0, e=0, s=self.status())
        counts, status = self.counts, self.status

        def advance(record: CaseRecord) -> None:
            self._progress.update(
                task,
                advance=1,
                p=counts["pass"],
                f=counts["fail"],
                e=counts["error"],
                s=status(),
            )

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
