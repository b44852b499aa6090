"""pytest plugin (entry point ``pytest11``): ``pytest --evalkit[=SUITE]`` makes every golden case
a test.

A case passes, fails (its check and judge reasons are the failure message) or is an *error*
(it could not be graded: reported by pytest as an error at setup, never as a pass or a fail).
Each suite runs once, on first use, through the same engine as ``evalkit run``: the response
cache is honoured and the run is stored under ``runs/`` with its report. ``-k`` selects cases;
only those are run. Without ``--evalkit`` the plugin does nothing and imports nothing of evalkit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from evalkit.api.casetests import SuiteRun

_ALL = "\0all"
_RUNS = pytest.StashKey[list["SuiteRun"]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("evalkit", "evalkit: golden cases as tests")
    group.addoption(
        "--evalkit",
        nargs="?",
        const=_ALL,
        default=None,
        metavar="SUITE",
        help="run evalkit suites, one test per golden case (every suite when none is named; "
        "write --evalkit=SUITE before other arguments)",
    )
    group.addoption(
        "--evalkit-config",
        default="evalkit.yaml",
        metavar="PATH",
        help="the project's evalkit.yaml (default: ./evalkit.yaml)",
    )
    group.addoption(
        "--evalkit-no-cache", action="store_true", help="call the models even for cached cases"
    )


class EvalkitSuite(pytest.Collector):
    """One suite of evalkit.yaml: its golden cases are the items."""

    run: SuiteRun

    def collect(self) -> Iterator[pytest.Item]:
        for prepared in self.run.suite.cases:
            yield EvalkitCase.from_parent(self, name=prepared.case.id)


class EvalkitCase(pytest.Item):
    """One golden case; the suite runs when the first selected case of it sets up."""

    parent: EvalkitSuite

    def setup(self) -> None:
        run = self.parent.run
        selected = [
            item.name
            for item in self.session.items
            if isinstance(item, EvalkitCase) and item.parent is self.parent
        ]
        run.ensure(selected)
        verdict = run.verdict(self.name)
        if verdict.outcome.value == "error":
            pytest.fail(verdict.message, pytrace=False)  # in setup: reported as an error
        self._verdict = verdict

    def runtest(self) -> None:
        if self._verdict.outcome.value == "fail":
            pytest.fail(self._verdict.message, pytrace=False)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"evalkit case {self.name}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add the golden cases before ``-k`` and ``-m`` select among the items."""
    choice = config.getoption("evalkit")
    if choice is None:
        return
    from evalkit.api.casetests import load_suite_runs
    from evalkit.base.exceptions import InputError

    path = Path(config.invocation_params.dir) / config.getoption("evalkit_config")
    try:
        runs = load_suite_runs(
            path,
            None if choice == _ALL else choice,
            use_cache=not config.getoption("evalkit_no_cache"),
        )
    except InputError as exc:
        raise pytest.UsageError(f"evalkit: {exc}") from None
    config.stash[_RUNS] = runs
    for run in runs:
        nodeid = f"{_relative(path, config.rootpath)}::{run.suite.name}"
        suite = EvalkitSuite.from_parent(session, name=run.suite.name, path=path, nodeid=nodeid)
        suite.run = run
        # collected the way pytest collects a file, so counts and -k/-m treat the cases alike
        report = config.hook.pytest_make_collect_report(collector=suite)
        session.ihook.pytest_collectreport(report=report)
        items.extend(node for node in report.result if isinstance(node, pytest.Item))


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Where each suite's run was stored, as ``evalkit run`` says it."""
    for run in config.stash.get(_RUNS, []):
        if run.outcome is not None:
            terminalreporter.write_line(
                f"evalkit: suite {run.suite.name} run id {run.outcome.run_id}, report "
                f"{run.outcome.path / 'report.md'}"
            )
