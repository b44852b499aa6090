"""The ``evalkit`` command line: a thin layer over the library.

Sub-commands live one per module and are imported only when invoked, so ``evalkit --help``
stays fast and never imports a model SDK. Errors map to the documented exit codes:
0 success, 1 gate failed, 2 bad usage/config/input, 3 run could not be completed.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from evalkit.base.exceptions import EvalkitError
from evalkit.base.version import __version__

# command name -> (module, one-line help). The module defines ``command``.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("evalkit.cli.run", "Run a suite and store a per-prompt-version run."),
    "validate": ("evalkit.cli.validate", "Check config, goldens, prompts, checks; call no model."),
    "runs": ("evalkit.cli.runs", "List stored runs by suite and prompt version."),
    "report": ("evalkit.cli.report", "Show or re-write a stored run's report."),
    "show": ("evalkit.cli.show", "Print one case of a run: prompt as sent, output, grades."),
    "demo": ("evalkit.cli.demo", "Run the bundled example offline on a scripted model."),
    "judge": ("evalkit.cli.judge", "Re-judge a stored run with the current judges."),
    "label": ("evalkit.cli.label", "Label outputs of a run by hand for a judge."),
    "calibrate": ("evalkit.cli.calibrate", "Measure a judge's agreement with human labels."),
    "compare": ("evalkit.cli.compare", "Compare two runs with paired statistics."),
    "ci": ("evalkit.cli.ci", "Run, compare with the baseline and apply the gate."),
    "baseline": ("evalkit.cli.baseline", "Manage the committed baseline runs."),
    "merge": ("evalkit.cli.merge", "Join shard runs (run --shard I/N) into one run."),
    "init": ("evalkit.cli.init", "Create a small working project that runs offline."),
    "schema": ("evalkit.cli.schema", "Print the JSON Schema of evalkit.yaml for editors."),
    "cache": ("evalkit.cli.cache", "Show the response cache; prune it by age or size."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        available = []
        for name, (module, _help) in COMMANDS.items():
            if importlib.util.find_spec(module) is not None:
                available.append(name)
        return sorted(available)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands from COMMANDS, without importing their modules (keeps --help fast)."""
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or importlib.util.find_spec(entry[0]) is None:
            return None
        command: click.Command = importlib.import_module(entry[0]).command
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evalkit")
def cli() -> None:
    """evalkit: regression tests for LLM systems.

    \b
    Example:
      evalkit validate            # check everything, call no model
      evalkit run support         # run the `support` suite from evalkit.yaml
      evalkit demo                # the bundled example, offline
    """


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: run the CLI and translate evalkit errors into exit codes."""
    try:
        return cli.main(args=argv, prog_name="evalkit", standalone_mode=False)
    except EvalkitError as exc:
        from evalkit.base.escape import terminal
        from evalkit.base.redact import redact

        click.echo(f"error: {terminal(redact(str(exc)))}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(3)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(3)
