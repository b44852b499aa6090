"""One Jinja2 environment for prompts and check parameters: StrictUndefined, no autoescape."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta

from evalkit.exceptions import TemplateError

_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
)


@lru_cache(maxsize=1024)
def compile_template(source: str) -> jinja2.Template:
    """Compile once per distinct source; raises TemplateError on a syntax error."""
    try:
        return _ENV.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}", line=exc.lineno) from exc


@lru_cache(maxsize=1024)
def template_variables(source: str) -> frozenset[str]:
    """Top-level variables a template reads (used by `evalkit validate`)."""
    try:
        return frozenset(meta.find_undeclared_variables(_ENV.parse(source)))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}", line=exc.lineno) from exc


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def render(source: str, variables: dict[str, Any]) -> str:
    """Render ``source``; a missing variable is a TemplateError naming it."""
    if not is_template(source):
        return source
    try:
        return compile_template(source).render(**variables)
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"missing template variable: {exc.message}") from exc
