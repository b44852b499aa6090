"""Writing a tree of project files into a folder without overwriting anything.

``evalkit init`` and ``evalkit demo`` both lay down a project from package data. A user's file
is never overwritten: every clash is named first, and nothing is written unless there is none.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from evalkit.base.exceptions import InputError

#: generated or machine-local files that never belong in a copied project
_SKIP_SUFFIXES = (".calibration.json", ".pyc")
_SKIP_NAMES = ("__pycache__", ".DS_Store")


def _files(src: Path, names: Iterable[str] | None) -> list[Path]:
    """Files under ``src`` (relative), or only under the listed top-level names."""
    tops = [src / n for n in names] if names is not None else sorted(src.iterdir())
    found: list[Path] = []
    for top in tops:
        candidates = sorted(top.rglob("*")) if top.is_dir() else [top]
        for path in candidates:
            rel = path.relative_to(src)
            if not path.is_file() or any(part in _SKIP_NAMES for part in rel.parts):
                continue
            if path.name.endswith(_SKIP_SUFFIXES):
                continue
            found.append(rel)
    return found


def _renamed(rel: Path, rename: Mapping[str, str]) -> Path:
    top = rel.parts[0]
    return Path(rename.get(top, top), *rel.parts[1:])


def write_tree(
    src: Path,
    dest: Path,
    names: Iterable[str] | None = None,
    *,
    rename: Mapping[str, str] | None = None,
    generated: Mapping[str, str] | None = None,
) -> list[Path]:
    """Copy the files under ``src`` (or its top-level ``names``) into ``dest``.

    ``rename`` maps top-level names in ``src`` to those written (package data holds no dotfiles:
    ``gitignore`` becomes ``.gitignore``); ``generated`` adds files by content. Raises InputError
    naming every file that already exists; nothing is written then. Returns the written paths,
    relative to ``dest``.
    """
    pairs = [(rel, _renamed(rel, rename or {})) for rel in _files(src, names)]
    made = {Path(name): text for name, text in (generated or {}).items()}
    outs = [out for _, out in pairs] + list(made)
    clashes = [out for out in outs if (dest / out).exists() or (dest / out).is_symlink()]
    if clashes:
        shown = ", ".join(str(dest / out) for out in clashes[:10])
        more = f" and {len(clashes) - 10} more" if len(clashes) > 10 else ""
        raise InputError(f"refusing to overwrite existing files: {shown}{more}", path=dest)
    for rel, out in pairs:
        target = dest / out
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, target)
    for out, text in made.items():
        (dest / out).parent.mkdir(parents=True, exist_ok=True)
        (dest / out).write_text(text, encoding="utf-8")
    return outs
