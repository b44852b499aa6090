"""The selection flags of ``evalkit run`` (and of anything else that runs a suite)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from evalkit.api.select import Selection

F = TypeVar("F", bound=Callable[..., Any])


def selection_options(func: F) -> F:
    """``--case``, ``--tag``, ``--sample``, ``--seed``, ``--limit``, ``--shard``."""
    options = [
        click.option(
            "--case", "case", multiple=True, metavar="ID", help="Only this case (repeatable)."
        ),
        click.option(
            "--tag",
            "tag",
            multiple=True,
            metavar="T",
            help="Only cases with this tag (repeatable).",
        ),
        click.option(
            "--sample",
            "sample",
            type=click.IntRange(1),
            metavar="N",
            help="A random sample of N cases, stratified by tag; it estimates the full suite.",
        ),
        click.option(
            "--seed", "seed", type=int, default=None, metavar="S", help="Seed of --sample (0)."
        ),
        click.option(
            "--limit", "limit", type=click.IntRange(1), metavar="N", help="The first N cases."
        ),
        click.option(
            "--shard",
            "shard",
            metavar="I/N",
            help="Shard I of N (by case id); join the shards' runs with `evalkit merge`.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def selection_from_flags(flags: dict[str, Any], *, resuming: bool) -> Selection | None:
    """The Selection the flags ask for; None when none is given (a resumed run keeps its own)."""
    from evalkit.api.select import Selection, Shard

    given = {k: v for k, v in flags.items() if v not in (None, ())}
    if not given:
        return None
    if resuming:
        raise click.UsageError(
            "--resume keeps the selection of the run it resumes: drop "
            + ", ".join(f"--{k}" for k in given)
        )
    if "seed" in given and "sample" not in given:
        raise click.UsageError("--seed only applies to --sample N")
    return Selection(
        cases=tuple(given.get("case", ())),
        tags=tuple(given.get("tag", ())),
        sample=given.get("sample"),
        seed=given.get("seed") or 0,
        limit=given.get("limit"),
        shard=Shard.parse(given["shard"]) if "shard" in given else None,
    )
