"""Importing user code named as ``module:attribute`` (custom checks, pydantic models, plugins).

The project directory is put on ``sys.path`` first, so ``mychecks:is_polite`` finds
``./mychecks.py`` the way ``python -m`` would, without the user installing anything.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any


def _ensure_on_path(base_dir: Path) -> None:
    entry = str(base_dir.resolve())
    if entry not in sys.path:
        sys.path.insert(0, entry)


def import_module(name: str, base_dir: Path) -> ModuleType:
    """Import ``name`` with ``base_dir`` importable; ``ValueError`` with a readable reason."""
    _ensure_on_path(base_dir)
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ValueError(f"cannot import module {name!r}: {exc}") from None
    except Exception as exc:  # user module crashed at import: still a config-time error
        raise ValueError(f"importing {name!r} raised {type(exc).__name__}: {exc}") from None


def import_object(spec: str, base_dir: Path) -> Any:
    """Resolve ``"package.module:attr"`` (attr may be dotted) to the object it names."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected 'module:name', got {spec!r}")
    obj: Any = import_module(module_name, base_dir)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj
