"""Prompt templates: rendering per case and the prompt version (a short content hash)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from evalkit.base.exceptions import InputError, TemplateError
from evalkit.base.template import compile_template, render, template_variables
from evalkit.base.yamlpos import load_model
from evalkit.model.provider import Message


class _TemplateMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant"]
    content: str


class Prompt(BaseModel):
    """A prompt file: ``system`` and ``user`` templates, or a ``messages`` list of templates.

    The version hashes the templates only: model and params are part of the target fingerprint,
    and the human ``label``/``description`` may change without changing what the model sees.
    """

    model_config = ConfigDict(extra="forbid")

    label: str | None = None
    description: str | None = None
    system: str | None = None
    user: str | None = None
    messages: list[_TemplateMessage] = Field(default_factory=list)
    path: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _one_form(self) -> Prompt:
        if self.messages and (self.system or self.user):
            raise ValueError("use either `system`/`user` or `messages`, not both")
        if not self.messages and not self.user:
            raise ValueError("a prompt needs a `user` template (or a `messages` list)")
        return self

    def templates(self) -> list[tuple[str, str]]:
        """(role, template) pairs in order."""
        if self.messages:
            return [(m.role, m.content) for m in self.messages]
        pairs: list[tuple[str, str]] = []
        if self.system:
            pairs.append(("system", self.system))
        if self.user:
            pairs.append(("user", self.user))
        return pairs

    @property
    def version(self) -> str:
        """12 hex chars of sha256 over the templates; stable across machines and runs."""
        canonical = json.dumps(self.templates(), ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]

    def variables(self) -> frozenset[str]:
        names: set[str] = set()
        for _role, template in self.templates():
            names |= template_variables(template)
        return frozenset(names)

    def render(self, variables: dict[str, Any]) -> list[Message]:
        out: list[Message] = []
        for role, template in self.templates():
            text = render(template, variables)
            out.append({"role": role, "content": text})  # type: ignore[typeddict-item]
        return out


def load_prompt(path: str | Path) -> Prompt:
    p = Path(path)
    prompt, positions = load_model(
        p, Prompt, not_a_mapping="a prompt file must be a mapping with `system`/`user`"
    )
    for index, (_role, template) in enumerate(prompt.templates()):
        try:
            compile_template(template)
        except TemplateError as exc:
            key = prompt.templates()[index][0] if not prompt.messages else f"messages.{index}"
            line = (
                positions.get((key,)) if not prompt.messages else positions.get(("messages", index))
            )
            raise InputError(exc.message, path=p, line=line, field=key) from None
    prompt.path = str(p)
    return prompt
