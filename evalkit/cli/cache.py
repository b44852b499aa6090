"""``evalkit cache info|prune|clear``: look at the response cache and keep it bounded."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from evalkit.base.units import human_size, parse_duration, parse_size
from evalkit.cli._common import config_option

if TYPE_CHECKING:
    from evalkit.api.cache import PruneResult


def _parsed(parse: Callable[[str], float]) -> Callable[..., float | None]:
    """An option callback: a bad duration or size is a usage error (exit 2) saying what to
    write. (A callback, not a ParamType: that is generic only from click 8.2.)"""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
        try:
            return None if value is None else parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None

    return callback


def _dir_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="The cache folder (default: cache_dir of evalkit.yaml, else .evalkit/cache).",
    )(func)


def _directory(cache_dir: Path | None, config_path: Path) -> Path:
    from evalkit.api.cache import cache_dir as project_cache_dir

    return cache_dir if cache_dir is not None else project_cache_dir(config_path)


@click.group("cache")
def command() -> None:
    """Look at the response cache and keep it bounded. Pruning is safe while runs use it.

    \b
    Example:
      evalkit cache info
      evalkit cache prune --older-than 30d --max-size 500MB
    """


@command.command("info")
@_dir_option
@config_option
def info(cache_dir: Path | None, config_path: Path) -> None:
    """Print the cache's path, entries, size on disk and the oldest and newest last use.

    \b
    Example:
      evalkit cache info --cache-dir .evalkit/cache
    """
    from evalkit.api.cache import inspect_cache

    got = inspect_cache(_directory(cache_dir, config_path))
    click.echo(f"cache: {got.path}")
    if not got.path.exists():
        click.echo("no cache file yet (a run makes it)")
        return
    answers, verdicts = got.entries["responses"], got.entries["results"]
    click.echo(f"entries: {answers:,} model answers, {verdicts:,} judge verdicts")
    click.echo(f"size on disk: {human_size(got.size)}")
    if got.oldest is not None and got.newest is not None:
        click.echo(f"last used: oldest {_when(got.oldest)}, newest {_when(got.newest)}")


@command.command("prune")
@click.option(
    "--older-than",
    callback=_parsed(parse_duration),
    help="Remove entries not used for this long: 30d, 12h, 90m, 2w.",
)
@click.option(
    "--max-size",
    callback=_parsed(parse_size),
    help="Then remove the least recently used until the file is at most this: 500MB, 2GB.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@_dir_option
@config_option
def prune(
    older_than: float | None,
    max_size: float | None,
    dry_run: bool,
    cache_dir: Path | None,
    config_path: Path,
) -> None:
    """Remove entries by age and/or down to a size, oldest use first, and shrink the file.

    \b
    Example:
      evalkit cache prune --older-than 30d
      evalkit cache prune --max-size 500MB --dry-run
    """
    from evalkit.api.cache import prune_cache

    if older_than is None and max_size is None:
        raise click.UsageError("give --older-than and/or --max-size (or use `evalkit cache clear`)")
    size = None if max_size is None else int(max_size)
    directory = _directory(cache_dir, config_path)
    result = prune_cache(directory, older_than=older_than, max_size=size, dry_run=dry_run)
    _report(result)
    if size is not None and result.size_after > size:
        # an empty cache file alone is about 20 kB; other processes may write meanwhile
        click.echo(f"note: still larger than --max-size ({human_size(size)})", err=True)


@command.command("clear")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@_dir_option
@config_option
def clear(dry_run: bool, cache_dir: Path | None, config_path: Path) -> None:
    """Remove every entry: the next run calls the models again.

    \b
    Example:
      evalkit cache clear
    """
    from evalkit.api.cache import clear_cache

    _report(clear_cache(_directory(cache_dir, config_path), dry_run=dry_run))


def _report(result: PruneResult) -> None:
    total = result.removed + result.kept
    sizes = f"{human_size(result.size_before)} → {human_size(result.size_after)}"
    if result.dry_run:
        click.echo(
            f"dry run: would remove {result.removed:,} of {total:,} entries ({sizes}, about)"
        )
    else:
        click.echo(f"removed {result.removed:,} of {total:,} entries ({sizes})")


def _when(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))
