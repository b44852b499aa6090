"""``@evalkit.check`` decorates, whatever check submodules were imported before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import evalkit
import evalkit.grading.check.json
from evalkit.grading.check import REGISTRY
from tests.conftest import CONFIG, MakeProject


def test_evalkit_check_decorates_after_subpackage_import() -> None:
    @evalkit.check
    def _tmp_init_plain(output: str, case: Any) -> bool:
        return output == "x"

    @evalkit.check("tmp-init-named")
    def _tmp_init_named(output: str, case: Any) -> bool:
        return True

    try:
        assert _tmp_init_plain("x", None) is True  # the function is returned unchanged
        assert REGISTRY["-tmp-init-plain"].function is _tmp_init_plain  # type: ignore[attr-defined]
        assert "tmp-init-named" in REGISTRY
    finally:
        REGISTRY.pop("-tmp-init-plain", None)
        REGISTRY.pop("tmp-init-named", None)


PLUGIN = """\
import evalkit


@evalkit.check
def shouty_init_test(output, case):
    return output.isupper()
"""


def test_plugin_using_evalkit_check_loads_under_the_cli(
    make_project: MakeProject, exit_code: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    config = "plugins: [init_plugin_checks]\n" + CONFIG.replace(
        '- {type: contains, value: "ok"}', "- {type: shouty-init-test}"
    )
    root = make_project({"evalkit.yaml": config, "init_plugin_checks.py": PLUGIN})
    monkeypatch.chdir(root)
    try:
        assert exit_code(["validate"]) == 0
        assert "shouty-init-test" in REGISTRY
    finally:
        REGISTRY.pop("shouty-init-test", None)
