"""The `phar` command: the app, its global flags, and `main()`.

Each command lives in a short module under `phar_cli/_cli/` that parses options, calls the
library (`phar_cli.core.load` and the packages under it) and prints (PySceneDetect's shape). Errors
become one red line and an exit code (2 for usage, 1 for failed input); tracebacks only with
--debug.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer
from typer.exceptions import Abort, Exit, TyperException

from phar_cli.version import __version__
from phar_cli._cli import batch, demo, models, similar, stash, timestamps, train
from phar_cli._cli import eval as eval_command
from phar_cli._cli import filter as filter_command
from phar_cli.core.options import flag
from phar_cli._cli.common import STATE, Command, Group, err, one_line, out
from phar_cli.errors import InvalidOption, PharError
from phar_cli.models.checkpoint import STRICT_ENV
from phar_cli.models.safe_load import TRUST_ENV

app = typer.Typer(
    name="phar", cls=Group, add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
    help="What happens in a video, and when: RGB + skeleton + audio action recognition.\n\n"
         "Example: phar timestamps in.mp4 -o out.json")


def _version(value: bool) -> None:
    if value:
        out.print(f"phar {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars, only results and errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say more about each step.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    trust_checkpoints: Annotated[bool, typer.Option(
        "--trust-checkpoints", help="Load model files that hold more than weights (they can run "
        "code: only files from a source you trust). Same as PHAR_TRUST_CHECKPOINTS=1.")] = False,
    strict_checkpoints: Annotated[bool, typer.Option(
        "--strict-checkpoints", help="Refuse model files with keys the model does not use "
        "(default: ignored with a warning). Same as PHAR_STRICT_CHECKPOINTS=1.")] = False,
) -> None:
    STATE.quiet, STATE.verbose, STATE.debug = quiet, verbose, debug
    # The environment carries them to the batch workers this process starts.
    for flag, name in ((trust_checkpoints, TRUST_ENV), (strict_checkpoints, STRICT_ENV)):
        if flag:
            os.environ[name] = "1"
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING,
                        format="%(message)s")


for name, command in (("timestamps", timestamps.timestamps), ("tags", timestamps.tags),
                      ("demo", demo.demo), ("filter", filter_command.filter_),
                      ("prepare-data", train.prepare_data), ("train", train.train),
                      ("batch", batch.batch), ("eval", eval_command.eval_),
                      ("similar", similar.similar), ("recommend", similar.recommend)):
    app.command(name=name, cls=Command)(command)
app.add_typer(models.app, name="models")
app.add_typer(stash.app, name="stash")


def main(argv: list[str] | None = None) -> None:
    """Console entry: one line per error, exit 1 (2 for usage, 130 on Ctrl-C)."""
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    try:
        code = app(args=argv, prog_name="phar", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except Exit as ex:
        sys.exit(ex.exit_code)
    except TyperException as ex:  # usage errors of the vendored click
        if type(ex).__name__ == "NoArgsIsHelpError":
            ex.show()  # type: ignore[attr-defined]
            sys.exit(0)
        _error(ex.format_message() + " (see --help)")
        sys.exit(ex.exit_code)
    except (Abort, KeyboardInterrupt):
        err.print("Stopped.")
        sys.exit(130)
    except PharError as ex:
        if STATE.debug:
            raise
        _error(flagged(ex))
        sys.exit(ex.exit_code)
    except Exception as ex:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if STATE.debug:
            raise
        _error(f"internal error: {type(ex).__name__}: {ex} (run with --debug for the traceback)")
        sys.exit(1)


def flagged(ex: PharError) -> str:
    """The error in the CLI's words: a library option is named by its flag."""
    if isinstance(ex, InvalidOption):
        return ex.worded(flag(ex.option))
    return str(ex)


def _error(text: str) -> None:
    err.print("[red]error:[/] " + one_line(text), highlight=False, soft_wrap=True)


if __name__ == "__main__":
    main()
