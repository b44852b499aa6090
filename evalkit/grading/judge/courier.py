"""Judge calls through a provider batch API (``evalkit judge --batch``): the courier.

In batch mode a :class:`~evalkit.grading.judge.call.VerdictClient` does not call the model
itself. Every request is built exactly as the live judge builds it (instructor in the judge's
output mode, or the provider for ``text`` mode) and handed to a :class:`Courier`, which gathers
the requests of every pending judge call into one batch and gives each its reply; that reply
goes through the live parsing path (instructor's, or the ``text`` verdict parser), so an
unparseable verdict is still its own outcome and a re-ask is simply the next batch round. A
request the batch did not answer (errored, expired, canceled) is sent live, on its own, under
the ordinary retry policy. The courier itself (batching, ``batches.json``, ``--resume``) lives
in :mod:`evalkit.api.judge_batch`; this module holds what the judge side needs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from evalkit.execution.batch import AnthropicBatches, OpenAIBatches
    from evalkit.grading.judge.modes import ConcreteMode


class Courier(Protocol):
    """Carries judge requests to a provider batch and brings back the replies."""

    def enter(self) -> None:
        """A judge call begins: the batch waits for it to send (or to end) before it goes."""

    def leave(self) -> None:
        """That judge call has ended."""

    async def send(
        self, api: AnthropicBatches | OpenAIBatches, key: str, body: dict[str, Any]
    ) -> Any:
        """The reply to ``body`` (the wire's SDK object), or why the batch gave none
        (``errored``, ``expired``, ``canceled``); ``key`` names the request across restarts."""


def request_key(ident: str, body: dict[str, Any]) -> str:
    """A request's name across restarts: the judge sample it belongs to and its exact body
    (a re-ask's body holds the answer before it, so each round's request differs)."""
    raw = json.dumps([ident, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def batch_instructor(
    client: Any, wire: str, mode: ConcreteMode, create: Callable[..., Awaitable[Any]]
) -> Any:
    """instructor in ``mode`` over ``create`` instead of the SDK's own method: the same v2
    registry handlers ``instructor.from_anthropic`` / ``from_openai`` install, so the request
    is built and the reply parsed exactly as in a live call."""
    import instructor
    from instructor.v2.core.client import AsyncInstructor
    from instructor.v2.core.patch import patch_v2
    from instructor.v2.core.registry import normalize_mode

    from evalkit.grading.judge.modes import INSTRUCTOR_MODES

    provider = instructor.Provider.ANTHROPIC if wire == "anthropic" else instructor.Provider.OPENAI
    chosen = normalize_mode(provider, getattr(instructor.Mode, INSTRUCTOR_MODES[mode]))
    patched = patch_v2(func=create, provider=provider, mode=chosen)
    return AsyncInstructor(client=client, create=patched, provider=provider, mode=chosen)
