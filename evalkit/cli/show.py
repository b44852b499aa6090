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
    from evalkit.model.record import CaseRecord
    from evalkit.report.case_view import case_view
    from evalkit.storage.store import iter_records, read_manifest, resolve_run

    path = resolve_run(run, runs_root(config_path))
    # one pass over the stored records, keeping only this case's (a run may hold 100,000)
    records: list[CaseRecord] = []
    ids: dict[str, None] = {}
    for rec in iter_records(path):
        ids[rec.case_id] = None
        if rec.case_id == case:
            records.append(rec)
    if not records:
        near = get_close_matches(case, list(ids), n=3)
        hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
        run_id = read_manifest(path).get("run_id", path.name)
        raise InputError(
            terminal(f"no case {case!r} in run {run_id} ({len(ids)} cases){hint}"),
            path=path / "results.jsonl",
        )
    click.echo(case_view(records), nl=False)
