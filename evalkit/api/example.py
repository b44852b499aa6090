"""Where the bundled example project is, and where ``evalkit demo`` runs it.

The example lives once, at the repository root. A wheel carries a copy made at build time
(``setup.py``) under ``evalkit/data/example/``; an editable install reads the root itself. The
demo runs in the current folder when that is the example (a checkout), else in a copy of it,
``./evalkit-demo``, made on first use so its runs and reports can be opened afterwards.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.api.scaffold import write_tree
from evalkit.base.exceptions import InputError

_DATA = Path(__file__).resolve().parents[1] / "data"
#: the folder ``evalkit demo`` copies the example to when run outside it
DEMO_DIR = "evalkit-demo"


def example_files() -> list[str]:
    """The example's top-level files and folders (one list, also read by setup.py)."""
    text = (_DATA / "example.files").read_text(encoding="utf-8")
    return [s.strip() for s in text.splitlines() if s.strip() and not s.startswith("#")]


def is_example(folder: Path) -> bool:
    """Whether ``folder`` holds the example project (its config and its scripted model)."""
    return (folder / "evalkit.yaml").is_file() and (folder / "scripts" / "support.yaml").is_file()


def bundled_example() -> Path:
    """The installed example: package data in a wheel, the source root in an editable install."""
    packaged = _DATA / "example"
    if is_example(packaged):
        return packaged
    root = _DATA.parents[1]
    if (root / "pyproject.toml").is_file() and is_example(root):
        return root
    raise InputError("this installation of evalkit has no bundled example project", path=packaged)


def demo_project(requested: Path | None) -> tuple[Path, bool]:
    """The folder the demo runs in, and whether the example was copied there just now."""
    if requested is not None:
        if not is_example(requested):
            raise InputError(
                "not the example project; run `evalkit demo` without --project to get a copy "
                f"in ./{DEMO_DIR}",
                path=requested / "evalkit.yaml",
            )
        return requested, False
    here = Path(".")
    if is_example(here):
        return here, False
    dest = here / DEMO_DIR
    if is_example(dest):
        return dest, False
    write_tree(bundled_example(), dest, example_files())
    return dest, True
