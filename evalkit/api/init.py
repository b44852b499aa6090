"""``evalkit init``: a small project of one's own that runs offline at once.

The project is package data (``evalkit/data/init/``): one suite, golden set, prompt, judge (with
an empty labels file), a scripted target and judge so ``evalkit run`` works with no key, a
GitHub Actions workflow, a ``.gitignore`` for runs and the cache, and ``evalkit.schema.json``
(what ``evalkit schema`` prints) for editors. Nothing is overwritten.
"""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.api.scaffold import write_tree

_TEMPLATE = Path(__file__).resolve().parents[1] / "data" / "init"
#: package data holds no dotfiles (setuptools' globs skip them): renamed when written
_DOTFILES = {"gitignore": ".gitignore", "github": ".github"}
SUITE = "assistant"
#: the JSON Schema of evalkit.yaml for editors, named on evalkit.yaml's first line
SCHEMA_FILE = "evalkit.schema.json"

#: what to change to leave the scripted models, in three lines
REAL_MODEL_STEPS = (
    "1. In evalkit.yaml set target `provider: anthropic` (or openai; base_url: for a local "
    "server) and a `model:`, and delete `script:`.",
    "2. Do the same under `model:` in judges/correct.yaml, then export ANTHROPIC_API_KEY "
    "(or OPENAI_API_KEY).",
    "3. `evalkit run`, then label outputs (`evalkit label RUN --judge correct`) and "
    "`evalkit calibrate correct` before trusting the judge.",
)


def init_project(dest: Path) -> list[Path]:
    """Write the starter project into ``dest`` (created if missing); returns the files written.

    Raises InputError naming every file that already exists, writing nothing then.
    """
    from evalkit.report.schema import config_schema

    schema = json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"
    return write_tree(_TEMPLATE, dest, rename=_DOTFILES, generated={SCHEMA_FILE: schema})
