"""``--batch`` and ``--batch-poll``, shared by ``evalkit run`` and ``evalkit judge``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def batch_options(what: str) -> Callable[[F], F]:
    """The two options; ``what`` says which requests ``--batch`` sends."""

    def decorate(fn: F) -> F:
        fn = click.option(
            "--batch-poll",
            type=click.FloatRange(0.01),
            default=30.0,
            show_default=True,
            metavar="SECONDS",
            help="How often --batch asks whether the batch has ended.",
        )(fn)
        return click.option(
            "--batch",
            is_flag=True,
            help=f"Send {what} through the provider's batch API (Anthropic Message Batches "
            "or the OpenAI Batch API; half price, slower).",
        )(fn)

    return decorate
