"""The one Jinja2 environment for every template (prompts, check parameters): sandboxed.

Templates come from files a pull request can change, and ``evalkit ci`` renders them on CI, so
a template must never run code. Everything renders in Jinja2's *immutable sandbox*: no access
to ``_``-prefixed or internal attributes (``cycler.__init__.__globals__`` …), no calls that
mutate (``list.append``), no unsafe ``str.format``. On top of the sandbox's run-time guard,
:func:`compile_template` rejects a literal unsafe attribute at load, so ``evalkit validate``
reports it with its line before any case is rendered. Only what names Python code on purpose
(``provider: python``, custom checks, ``plugins:``) runs code.

StrictUndefined (a missing variable is an error naming it), no autoescape (prompts are not HTML).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from evalkit.base.exceptions import TemplateError

_ENV = ImmutableSandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
)

#: attributes the sandbox refuses on any object (besides every ``_``-prefixed name)
_UNSAFE_NAMES = frozenset(
    {
        "mro",
        "func_globals",
        "func_code",
        "gi_frame",
        "gi_code",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "ag_code",
        "f_globals",
        "f_builtins",
        "tb_frame",
    }
)


def _unsafe_name(name: object) -> bool:
    return isinstance(name, str) and (name.startswith("_") or name in _UNSAFE_NAMES)


def _first_unsafe_access(tree: nodes.Template) -> tuple[str, int] | None:
    """The first literal unsafe attribute access in ``tree``: ``x.__a__``, ``x['__a__']``,
    ``x|attr('__a__')``. Computed names are left to the sandbox's run-time guard."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        if isinstance(node, nodes.Getattr):
            name: object = node.attr
        elif isinstance(node, nodes.Getitem):
            name = node.arg.value if isinstance(node.arg, nodes.Const) else None
        else:
            assert isinstance(node, nodes.Filter)
            arg = node.args[0] if node.name == "attr" and node.args else None
            name = arg.value if isinstance(arg, nodes.Const) else None
        if _unsafe_name(name):
            return str(name), node.lineno
    return None


def _parse(source: str) -> nodes.Template:
    """Parse and vet ``source``; a syntax error or unsafe access is a TemplateError."""
    try:
        tree = _ENV.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}", line=exc.lineno) from exc
    unsafe = _first_unsafe_access(tree)
    if unsafe is not None:
        name, line = unsafe
        raise TemplateError(
            f"unsafe template: access to attribute {name!r} is not allowed (templates are "
            "sandboxed; use `provider: python` or a custom check to run code)",
            line=line,
        )
    return tree


@lru_cache(maxsize=1024)
def compile_template(source: str) -> jinja2.Template:
    """Compile once per distinct source; raises TemplateError on a syntax error or an unsafe
    attribute access."""
    return _ENV.from_string(_parse(source))


@lru_cache(maxsize=1024)
def template_variables(source: str) -> frozenset[str]:
    """Top-level variables a template reads (used by `evalkit validate`)."""
    return frozenset(meta.find_undeclared_variables(_parse(source)))


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def render(source: str, variables: dict[str, Any]) -> str:
    """Render ``source``; a missing variable or a sandbox violation is a TemplateError."""
    if not is_template(source):
        return source
    try:
        return compile_template(source).render(**variables)
    except SecurityError as exc:
        raise TemplateError(f"unsafe template: {exc}") from exc
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"missing template variable: {exc.message}") from exc
