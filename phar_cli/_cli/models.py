"""`phar models list|verify|fetch`: the model files in $PHAR_HOME/models."""
from __future__ import annotations

import sys
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from phar_cli._cli.common import Command, Group, out, progress_bars

app = typer.Typer(cls=Group, help="The model bundle: list, verify and fetch model files.\n\n"
                       "Example: phar models fetch rtmo-s",
                  no_args_is_help=True)


def _entries(names: list[str] | None) -> list[Any]:
    from phar_cli.models.registry import get_entry, load_manifest

    manifest = load_manifest()
    if not names or names == ["all"]:
        return list(manifest.values())
    return [get_entry(n, manifest) for n in names]


@app.command("list", cls=Command)
def models_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with URLs) for machines.")] = False,
) -> None:
    """The bundle's model files, and whether each is present in $PHAR_HOME/models; and the
    content model, which a package ships (nothing to download).

    Example: phar models list --json
    """
    import orjson

    from phar_cli.models.registry import models_home

    home = models_home()
    rows = []
    for e in _entries(None):
        path = home / e.file
        rows.append({"name": e.name, "file": e.file, "present": path.is_file(),
                     "size": path.stat().st_size if path.is_file() else e.size,
                     "sha256": e.sha256, "sha256_prefix": e.sha256_prefix, "url": e.url,
                     "path": str(path), "license": e.license, "source": e.source})
    rows.append(_content_row())
    if as_json:
        sys.stdout.write(orjson.dumps({"home": str(home), "models": rows}).decode() + "\n")
        return
    table = Table(title=f"phar model bundle ({home})")
    for col in ("name", "file", "present", "size", "sha256"):
        table.add_column(col, overflow="fold")
    for r in rows:
        digest = r["sha256"] or (f"{r['sha256_prefix']}… (prefix)" if r["sha256_prefix"]
                                 else "not published")
        table.add_row(r["name"], r["file"], "yes" if r["present"] else "no",
                      f"{r['size'] / 1e6:.1f} MB" if r["size"] else "?", digest)
    out.print(table)
    content = rows[-1]
    out.print(f"content: {content['description']}; licence: {content['license']}; source: "
              f"{content['source']}", highlight=False, markup=False, soft_wrap=True)


def _content_row() -> dict[str, Any]:
    """The content model as a row of the list: where its package keeps it, if installed."""
    from phar_cli.models import content

    path = content.model_file()
    return {"name": content.NAME, "file": str(path) if path else content.PACKAGE,
            "present": path is not None, "size": path.stat().st_size if path else None,
            "sha256": content.model_sha256(), "sha256_prefix": None, "url": None,
            "path": str(path) if path else None, "license": content.LICENSE,
            "source": content.SOURCE, "description": content.MODEL}


@app.command("verify", cls=Command)
def models_verify(names: Annotated[Optional[list[str]], typer.Argument(help="Models to check (default: all).")] = None) -> None:
    """Which model files are present and sound (sha256 checked where one is published).

    Example: phar models verify rgb skeleton
    """
    from phar_cli.models.download import verify
    from phar_cli.models.registry import models_home

    home = models_home()
    bad = 0
    table = Table(title=f"phar models in {home}")
    for col in ("name", "file", "status", "detail"):
        table.add_column(col, overflow="fold")
    for e in _entries(names):
        result = verify(e, home)
        bad += not result.usable
        style = "green" if result.status in ("ok", "pinned") else "yellow" if result.usable else "red"
        table.add_row(e.name, e.file, f"[{style}]{result.status}[/]", result.message)
    out.print(table)
    if bad:
        raise typer.Exit(1)


@app.command("fetch", cls=Command)
def models_fetch(
    names: Annotated[Optional[list[str]], typer.Argument(help="Models to download (default: all).")] = None,
    force: Annotated[bool, typer.Option(help="Download again even if a sound copy is present.")] = False,
) -> None:
    """Download model files into $PHAR_HOME/models with progress, checking sha256, atomically.

    Example: phar models fetch rgb
    """
    from phar_cli.models.download import fetch
    from phar_cli.models.registry import models_home

    home = models_home()
    home.mkdir(parents=True, exist_ok=True)
    for e in _entries(names):
        with progress_bars(transfer=True) as progress:
            task = progress.add_task(f"{e.name} ({e.file})", total=e.size)
            result = fetch(e, home, force=force,
                           progress=lambda done, total: progress.update(task, completed=done, total=total))
        out.print(result.message)
