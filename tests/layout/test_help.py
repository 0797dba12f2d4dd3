"""Every command's help reads clean: no stray metavars, and one example line to copy."""
from __future__ import annotations

from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from phar_cli.cli import app


def command_paths() -> list[list[str]]:
    def walk(command: Any, path: list[str]) -> list[list[str]]:
        found = [path]
        for name, sub in getattr(command, "commands", {}).items():
            found += walk(sub, [*path, name])
        return found

    return walk(typer.main.get_command(app), [])


PATHS = command_paths()


def test_every_command_is_walked() -> None:
    names = {" ".join(p) for p in PATHS}
    assert {"timestamps", "filter", "eval", "stash push", "models fetch", "train"} <= names


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "phar")
def test_help_is_clean_and_has_an_example(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    examples = [line for line in result.output.splitlines() if "Example: phar" in line]
    assert len(examples) == 1, result.output
    assert examples[0].split("Example: ")[1].startswith(" ".join(["phar", *path]).strip())
