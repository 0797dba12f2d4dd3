"""What every command module shares: the consoles, the global flags, progress bars for the
library's (step, done, total) callbacks, and the checks of output paths."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from typer.core import TyperCommand, TyperGroup
from rich.markup import escape
from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeRemainingColumn, TransferSpeedColumn)

from phar_cli.errors import UsageError

err = Console(stderr=True)
out = Console()


@dataclass
class GlobalState:
    quiet: bool = False
    verbose: bool = False
    debug: bool = False


STATE = GlobalState()


class Bars:
    """Rich progress bars for the library's (step, done, total) callback."""

    NAMES = {"rgb": "RGB stream", "poses": "Person poses", "skeleton": "Skeleton stream",
             "audio": "Audio stream", "refine": "Boundaries", "cuts": "Shot cuts"}

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def __call__(self, step: str, done: float, total: float) -> None:
        if step not in self.tasks:
            self.tasks[step] = self.progress.add_task(self.NAMES.get(step, step), total=total)
        self.progress.update(self.tasks[step], completed=done, total=total)


def progress_bars(transfer: bool = False) -> Progress:
    columns: list[Any] = [TextColumn("[bold]{task.description}"), BarColumn()]
    columns += [DownloadColumn(), TransferSpeedColumn()] if transfer else [MofNCompleteColumn()]
    columns.append(TimeRemainingColumn())
    return Progress(*columns, console=err, disable=STATE.quiet, transient=False)


def check_output(path: Path, *inputs: Path) -> None:
    """An output path must not be an input, a folder, or in a folder that does not exist."""
    for source in inputs:
        if source.exists() and path.exists() and path.resolve() == source.resolve():
            raise UsageError(f"{path}: output would overwrite the input; choose another path")
    if path.is_dir():
        raise UsageError(f"{path}: output is a directory")
    if not path.parent.exists():
        raise UsageError(f"{path}: folder {path.parent} does not exist")


def split_list(text: str | None) -> tuple[str, ...]:
    """'a, b,c' -> ('a', 'b', 'c'): the comma-separated lists options take."""
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def one_line(text: str) -> str:
    """Text as one escaped line of Rich markup."""
    return escape(" ".join(text.split()))


def say(text: str) -> None:
    """A line on stderr unless --quiet (what happened, not the result)."""
    if not STATE.quiet:
        err.print(text, highlight=False, soft_wrap=True)


class _FlagsWithoutType:
    """Help without a type column for on/off flags (Typer prints `<bool>` for each)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class Group(_FlagsWithoutType, TyperGroup):
    pass


class Command(_FlagsWithoutType, TyperCommand):
    pass
