"""`phar stash push|pull`: options in, the library's push/pull called, the report out (a Rich
table per scene for a dry run, one line per scene otherwise, JSON with --json)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import orjson
import typer
from rich.table import Table

from phar_cli._cli.common import (STATE, Bars, Command, Group, check_output, err, one_line, out,
                                  progress_bars, say)
from phar_cli.stash.client import KEY_ENV

app = typer.Typer(cls=Group, help="Stash: write phar's segments as scene markers and tags, read "
                                  "the markers people made back as training annotations.\n\n"
                                  "Example: phar stash push phar-out --url http://nas:9999",
                  no_args_is_help=True)

Url = Annotated[str, typer.Option(
    "--url", envvar="PHAR_STASH_URL", help="The Stash server (default $PHAR_STASH_URL, else "
    "http://localhost:9999).", show_default=False)]
KeyFile = Annotated[Optional[Path], typer.Option(
    help=f"A file holding the API key (default ${KEY_ENV}); Stash shows it in Settings > "
         "Security. It is sent as the ApiKey header and never printed or stored.")]
PathMaps = Annotated[Optional[list[str]], typer.Option(
    "--path-map", help="LOCAL=REMOTE: a folder here and the same folder as Stash sees it "
                       "(repeatable; the longest match wins).")]
Settings = Annotated[Optional[Path], typer.Option(
    help="Per-label rules, a .csv or .toml file (see README: Stash).")]
ParentTag = Annotated[Optional[str], typer.Option(
    help="The tag on everything phar writes (default: the settings', else 'phar').")]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for each answer.")]
Retries = Annotated[int, typer.Option(help="Tries again after a network error or HTTP 5xx.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the report as JSON for machines.")]


@app.command(cls=Command)
def push(
    input: Annotated[Path, typer.Argument(help="A predictions JSON, a folder of them, or a "
                                               "`phar batch` output folder.")],
    url: Url = "http://localhost:9999",
    api_key_file: KeyFile = None,
    path_map: PathMaps = None,
    settings: Settings = None,
    parent_tag: ParentTag = None,
    oshash: Annotated[bool, typer.Option(help="Look a video up by its oshash when no scene has "
                                              "its path.")] = True,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be created, "
                                          "replaced and left alone; write nothing.")] = False,
    timeout: Timeout = 30.0,
    retries: Retries = 3,
    as_json: AsJson = False,
) -> None:
    """Segments as scene markers, labels as scene tags, and a status tag on each scene done.

    Example: phar stash push ~/phar-out --url http://nas:9999 --dry-run
    """
    from phar_cli.stash.push import PushOptions
    from phar_cli.stash.push import push as run_push
    from phar_cli.stash.sources import push_sources

    options = PushOptions(_settings(settings, parent_tag), _maps(path_map), oshash, dry_run)
    sources = push_sources(input)
    for note in sources.notes:
        say(f"[yellow]{one_line(note)}[/]")
    with _api(url, api_key_file, timeout, retries) as api:
        if not api.end_seconds:
            say(f"{one_line(api.where)} has no end times on markers (end_seconds): writing point "
                "markers at each segment's start")
        with progress_bars() as bars:
            report = run_push(api, sources.items, options, progress=Bars(bars))
    report.notes += sources.notes
    if as_json:
        _print_json(report.to_dict())
    else:
        _show_push(report)
    if report.failed:
        raise typer.Exit(1)


@app.command(cls=Command)
def pull(
    output: Annotated[Path, typer.Option("--output", "-o", help="The annotations CSV to write "
                                         "(video,start,end,label), for `phar prepare-data`.")],
    url: Url = "http://localhost:9999",
    api_key_file: KeyFile = None,
    path_map: PathMaps = None,
    settings: Settings = None,
    parent_tag: ParentTag = None,
    labels: Annotated[Optional[Path], typer.Option(
        help="The label map whose tags to look for (default: phar's 17 labels and the "
             "settings').")] = None,
    point_seconds: Annotated[Optional[float], typer.Option(
        help="Export markers without an end time as a window of this many seconds around "
             "the point (default: leave them out).")] = None,
    timeout: Timeout = 30.0,
    retries: Retries = 3,
    as_json: AsJson = False,
) -> None:
    """People's markers with phar's label tags (and flagged ones, as negatives) as annotations.

    Example: phar stash pull -o mine.csv --url http://nas:9999
    """
    from phar_cli.stash.pull import PullOptions, pull as run_pull, pull_labels, write_annotations

    check_output(output)
    rules = _settings(settings, parent_tag)
    options = PullOptions(pull_labels(rules, labels), rules, _maps(path_map), point_seconds)
    with _api(url, api_key_file, timeout, retries) as api:
        report = run_pull(api, options)
    write_annotations(report.rows, output)
    counts = report.counts()
    if as_json:
        _print_json({"output": str(output), "counts": counts, "missing_tags": report.missing_tags})
        return
    if report.points_skipped:
        say(f"{report.points_skipped} point markers (no end time) left out: --point-seconds S "
            "exports each as an S-second window around its point")
    if report.points_widened:
        say(f"{report.points_widened} point markers exported as {point_seconds:g}-second windows "
            "around their points")
    if STATE.verbose and report.missing_tags:
        say(f"no tag in Stash for: {one_line(', '.join(report.missing_tags))}")
    out.print(f"wrote {counts['rows']} annotations ({counts['positives']} from people's markers, "
              f"{counts['negatives']} negatives flagged '{one_line(rules.incorrect)}') to "
              f"{one_line(str(output))}", highlight=False)


plugin_app = typer.Typer(cls=Group, help="phar as a Stash plugin: its tasks in Stash's task "
                                         "queue, its settings in Stash's UI.\n\n"
                                         "Example: phar stash plugin install ~/.stash/plugins",
                         no_args_is_help=True)
app.add_typer(plugin_app, name="plugin")


@plugin_app.command(cls=Command)
def install(
    plugins_dir: Annotated[Optional[Path], typer.Argument(
        help="Stash's plugins folder ('plugins' in its configuration folder).",
        show_default=False)] = None,
    show: Annotated[bool, typer.Option("--print", help="Print the manifest (phar.yml) instead "
                                                       "of installing.")] = False,
) -> None:
    """Write phar's plugin (phar/phar.yml and its entry script) into Stash's plugins folder;
    only that folder is replaced.

    Example: phar stash plugin install ~/.stash/plugins
    """
    from phar_cli.errors import UsageError
    from phar_cli.stash_plugin.manifest import install as install_plugin
    from phar_cli.stash_plugin.manifest import manifest_text

    if show:
        sys.stdout.write(manifest_text())
        return
    if plugins_dir is None:
        raise UsageError("give Stash's plugins folder (e.g. ~/.stash/plugins), or --print")
    folder = install_plugin(plugins_dir)
    out.print(f"installed phar's Stash plugin in {one_line(str(folder))}", highlight=False)
    say("in Stash: Settings > Plugins > Reload plugins; its tasks are then under Settings > "
        "Tasks > Plugin Tasks, its settings under Settings > Plugins > phar")


# -- shared -----------------------------------------------------------------------------------

def _settings(path: Optional[Path], parent_tag: Optional[str]) -> Any:
    from phar_cli.stash.settings import load_settings

    return load_settings(path).with_parent(parent_tag)


def _maps(texts: Optional[list[str]]) -> Any:
    from phar_cli.stash.paths import parse_path_maps

    return parse_path_maps(texts or [])


def _api(url: str, key_file: Optional[Path], timeout: float, retries: int) -> Any:
    from phar_cli.stash.api import StashApi
    from phar_cli.stash.client import StashClient, api_key

    return StashApi(StashClient(url, api_key(key_file), timeout=timeout, retries=retries))


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


# -- push report ------------------------------------------------------------------------------

# (report field, colour, as planned, as done)
_ACTIONS = (("create", "green", "create", "created"), ("replace", "yellow", "replace", "replaced"),
            ("keep", "cyan", "keep", "kept"), ("left_alone", "dim", "leave alone", "left alone"))


def _show_push(report: Any) -> None:
    for scene in report.scenes:
        if scene.status == "no-scene":
            say(f"[yellow]{one_line(scene.video)}: skipped: {one_line(scene.error or '')}[/]")
        elif scene.status == "failed":
            err.print(f"[red]{one_line(scene.error or scene.predictions)}[/]", highlight=False,
                      soft_wrap=True)
        elif report.dry_run:
            err.print(_scene_table(scene, report.status_tag))
        else:
            say(f"{one_line(scene.video)}: scene {scene.scene_id}: {_scene_counts(scene)}")
    c = report.counts()
    verb = "would write" if report.dry_run else "wrote"
    head = ", ".join(f"{c[k]} {name}" for k, name in (
        ("pushed", "scenes pushed"), ("planned", "scenes to push"), ("unchanged", "unchanged"),
        ("no-scene", "without a scene"), ("failed", "failed")) if c.get(k))
    out.print(f"{one_line(report.server)}: {head or 'nothing to push'}; {verb} "
              f"{c['markers_create']} markers, replacing {c['markers_replace']}"
              + (f"; new tags: {one_line(', '.join(report.tags_created))}"
                 if report.tags_created else ""), highlight=False)


def _scene_counts(scene: Any) -> str:
    if scene.status == "unchanged":
        return f"unchanged ({len(scene.keep)} markers as wanted)"
    parts = [f"{len(getattr(scene, key))} {done}" for key, _, _, done in _ACTIONS]
    tags = ", ".join(f"+{t}" for t in scene.scene_tags)
    return "markers: " + ", ".join(parts) + (f"; scene tags {one_line(tags)}" if tags else "")


def _scene_table(scene: Any, status_tag: str) -> Table:
    found = f"by {scene.found_by}" if scene.found_by else ""
    title = f"scene {scene.scene_id} ({found}): {one_line(scene.video)}"
    if scene.status == "unchanged":
        title += " (unchanged)"
    table = Table(title=title, title_justify="left", caption_justify="left")
    for col, justify in (("action", "left"), ("tag", "left"), ("start", "right"),
                         ("end", "right"), ("title", "left"), ("note", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for key, colour, name, _ in _ACTIONS:
        for row in getattr(scene, key):
            end = "-" if row.end is None else f"{row.end:.2f}"
            table.add_row(f"[{colour}]{name}[/]", one_line(row.tag), f"{row.start:.2f}", end,
                          one_line(row.title), one_line(row.why))
    tags = [*scene.scene_tags, *([status_tag] if scene.status_tag else [])]
    if tags:
        table.caption = "scene tags to add: " + one_line(", ".join(tags))
    return table
