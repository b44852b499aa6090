"""``evalkit cache``: what the response cache holds, and keeping it bounded.

The cache is one SQLite file, ``<cache_dir>/responses.sqlite`` (``cache_dir:`` in evalkit.yaml,
default ``.evalkit/cache`` beside it). Pruning and clearing are safe while runs use it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evalkit.base.exceptions import InputError
from evalkit.base.units import parse_duration, parse_size
from evalkit.execution.cachedb import cache_file
from evalkit.execution.cacheprune import CacheInfo, PruneResult, cache_info, prune
from evalkit.model.config import DEFAULT_CONFIG, ProjectConfig, read_config

__all__ = ["CacheInfo", "PruneResult", "cache_dir", "clear_cache", "inspect_cache", "prune_cache"]


def cache_dir(config_path: str | Path = DEFAULT_CONFIG) -> Path:
    """The project's cache folder (``cache_dir:``), or ``./.evalkit/cache`` with no config."""
    path = Path(config_path)
    project = read_config(path) if path.exists() else ProjectConfig(suites={}, root=Path.cwd())
    return project.resolve(project.cache_dir)


def inspect_cache(directory: str | Path) -> CacheInfo:
    """Entries, size on disk and least/most recent use of the cache in ``directory``."""
    return cache_info(cache_file(directory))


def prune_cache(
    directory: str | Path,
    *,
    older_than: str | float | None = None,
    max_size: str | int | None = None,
    dry_run: bool = False,
) -> PruneResult:
    """Remove entries unused for ``older_than`` (seconds, or ``"30d"``), then the least
    recently used until the file is at most ``max_size`` (bytes, or ``"500MB"``)."""
    if older_than is None and max_size is None:
        raise InputError("say what to prune: older_than and/or max_size", field="older_than")
    age = _parsed(older_than, parse_duration, "older_than")
    size = _parsed(max_size, parse_size, "max_size")
    return prune(
        cache_file(directory),
        older_than=age,
        max_size=None if size is None else int(size),
        dry_run=dry_run,
    )


def clear_cache(directory: str | Path, *, dry_run: bool = False) -> PruneResult:
    """Remove every entry (the file stays, so runs using it at the moment go on)."""
    return prune(cache_file(directory), everything=True, dry_run=dry_run)


def _parsed(value: str | float | None, parse: Callable[[str], float], field: str) -> float | None:
    if value is None or isinstance(value, int | float):
        if value is not None and value < 0:
            raise InputError(f"must not be negative, got {value}", field=field)
        return value
    try:
        return parse(value)
    except ValueError as exc:
        raise InputError(str(exc), field=field) from None
