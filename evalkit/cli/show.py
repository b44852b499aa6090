"""``evalkit show RUN CASE``."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli._common import config_option, runs_root


@click.command("show")
@click.argument("run")
@click.argument("case")
@config_option
def command(run: str, case: str, config_path: Path) -> None:
    """Print one case of RUN: its prompt as sent, output, checks, judges and usage per repeat.

    \b
    Example:
      evalkit show 20261123T101500-1a2b3c refund-late-order
    """
    from difflib import get_close_matches

    from evalkit.base.escape import terminal
    from evalkit.base.exceptions import InputError
    from evalkit.report.case_view import case_view
    from evalkit.storage.store import load_run, resolve_run

    path = resolve_run(run, runs_root(config_path))
    stored = load_run(path)
    records = [r for r in stored.records if r.case_id == case]
    if not records:
        ids = list(dict.fromkeys(r.case_id for r in stored.records))
        near = get_close_matches(case, ids, n=3)
        hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
        raise InputError(
            terminal(f"no case {case!r} in run {stored.run_id} ({len(ids)} cases){hint}"),
            path=path / "results.jsonl",
        )
    click.echo(case_view(records), nl=False)
