"""The provider protocol: how evalkit asks a system under test (or a judge model) for an answer.

A provider turns rendered chat messages plus params into a :class:`Completion`, or raises
:class:`evalkit.base.exceptions.ProviderError` (mapped from whatever the SDK raised) so that the
single
retry policy in :mod:`evalkit.execution.provider.retry` can decide what to do. Providers never
retry on
their own and SDK-level retries are disabled.

New providers are one file plus one line in :data:`evalkit.execution.provider.REGISTRY`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypedDict

#: finish / stop reasons that mean "cut off at the token limit" on the OpenAI / Anthropic wire
TRUNCATED_REASONS = frozenset({"length", "max_tokens"})


class Message(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass
class Completion:
    """One model answer, with what it cost."""

    text: str
    #: every input token, including those read from or written to a prompt cache
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    #: as the server said it: ``length`` (OpenAI) or ``max_tokens`` (Anthropic) = truncated
    finish_reason: str | None = None
    #: of ``input_tokens``, how many were read from / written to the prompt cache (priced apart)
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    #: tool calls the model asked for: ``{"id", "name", "arguments"}`` (arguments parsed from
    #: JSON; the raw text when they were not JSON); a ``result`` key when the system ran it
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        """Whether the answer was cut off at the token limit (either wire's wording)."""
        return self.finish_reason in TRUNCATED_REASONS


@dataclass(frozen=True)
class TargetSpec:
    """Everything needed to build a provider; mirrors ``target:`` in ``evalkit.yaml``."""

    provider: str
    model: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None
    callable: str | None = None
    api_key_env: str | None = None
    #: ``api_key: none`` in the config: send a placeholder, never ask for a key
    no_api_key: bool = False
    timeout: float = 60.0
    #: the project root, where ``callable: module:function`` modules are looked up
    project_dir: str | None = None
    # scripted provider only
    script: str | None = None
    wire: Literal["anthropic", "openai"] = "anthropic"
    #: ``module:function`` answering tool calls no case ``tool_results`` rule matched
    tool_runner: str | None = None


@dataclass(frozen=True)
class CallContext:
    """Who is asking: lets the scripted server answer per prompt version and case."""

    case_id: str | None = None
    prompt_version: str | None = None
    prompt_label: str | None = None
    repeat: int = 0
    purpose: str = "target"  # or "judge:<name>"
    #: the case's template variables, for python callables that want inputs, not messages
    variables: dict[str, Any] | None = field(default=None, compare=False, hash=False)


class Provider(Protocol):
    """What the engine needs from a provider."""

    name: str

    async def prepare(self) -> None:
        """Do slow one-off work (SDK import, client set-up) before the first timed call, so
        it is not counted as the first case's latency; raise AuthError for a missing key."""
        ...

    async def complete(
        self, messages: list[Message], params: dict[str, Any], ctx: CallContext
    ) -> Completion: ...

    async def aclose(self) -> None: ...


class ToolProvider(Protocol):
    """A provider that can hold a conversation with tools (see evalkit.model.conversation for
    the neutral turn shape: system / user / assistant with ``tool_calls`` / tool turns)."""

    async def complete_tools(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        params: dict[str, Any],
        ctx: CallContext,
    ) -> Completion:
        """One model turn; the reply's ``tool_calls`` say which tools it wants run."""
        ...
