"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from evalkit.api.project import load_config
from evalkit.model.config import DEFAULT_CONFIG, ProjectConfig

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "-c",
        "config_path",
        default=DEFAULT_CONFIG,
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Project configuration file.",
    )(func)


def load_project(config_path: Path) -> ProjectConfig:
    return load_config(config_path)


def runs_root(config_path: Path) -> Path:
    """The runs folder of the project, or ./runs when there is no config file."""
    if config_path.exists():
        project = load_config(config_path)
        return project.resolve(project.runs_dir)
    return Path("runs")
