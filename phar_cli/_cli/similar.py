"""`phar similar` and `phar recommend`: options in, `phar_cli.similarity` called, a Rich table (or
JSON) out."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer
from rich.table import Table

from phar_cli._cli.common import check_output, one_line, out, progress_bars, say
from phar_cli._cli.stash import KeyFile, PathMaps, Retries, Timeout, _print_json
from phar_cli.errors import UsageError
from phar_cli.similarity.recommend import DEFAULT_TOP as DEFAULT_RECOMMEND_TOP
from phar_cli.similarity.recommend import SHOWN_UNANALYSED
from phar_cli.similarity.search import BY, DEFAULT_BY, DEFAULT_TOP

LibraryOpt = Annotated[Path, typer.Option(
    "--library", help="A `phar batch` output folder: the videos to rank.")]
By = Annotated[str, typer.Option(
    help=f"What makes videos alike: {', '.join(BY)} (profile: how long each action lasts; "
         "look: the RGB model's features; both: their weighted sum).")]
Weights = Annotated[Optional[str], typer.Option(
    help="--by both's weights, 'profile=W,look=W' (default 0.5 each).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON for machines.")]


def similar(
    library: LibraryOpt,
    query: Annotated[Optional[Path], typer.Argument(
        help="A video of the library, or any predictions JSON.", show_default=False)] = None,
    top: Annotated[int, typer.Option(help="How many videos to show (each video's, with "
                                          "--all).")] = DEFAULT_TOP,
    by: By = DEFAULT_BY,
    weights: Weights = None,
    every: Annotated[bool, typer.Option("--all", help="Every video's best matches at once "
                                                      "(with -o: for a site's recommender).")] = False,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="With --all: the JSON file to write.")] = None,
    as_json: AsJson = False,
) -> None:
    """The library's videos most like one video, with why: the same actions for as long, the
    same look; the video itself and its copies left out.

    Example: phar similar clip.mp4 --library ~/phar-out --top 10
    """
    from phar_cli.similarity import search

    if every:
        if query is not None:
            raise UsageError("--all ranks every video of the library: give no QUERY with it")
        if output is None:
            raise UsageError("--all needs --output FILE (the JSON to write)")
        check_output(output)
        from phar_cli.atomic import atomic_open

        every_video = search.similar_all(library, top=top, by=by, weights=weights)
        _notes(every_video.notes)
        head = {"schema": "phar.similar/1", "library": str(library), "by": by,
                "weights": search.parse_weights(weights), "look_model": every_video.look_model,
                "top": top}
        # written as the matches are made: memory does not grow with the library's pairs
        with atomic_open(output) as f, progress_bars() as bars:
            task = bars.add_task("Similar videos", total=len(every_video))
            f.write(orjson.dumps(head)[:-1] + b', "videos": [')
            for k, result in enumerate(every_video):
                f.write((b",\n" if k else b"\n") + orjson.dumps(
                    {"path": result.query, "matches": [m.to_dict() for m in result.matches]}))
                bars.advance(task)
            f.write(b"\n]}\n")
        say(f"wrote the best {top} matches of each of {len(every_video)} videos to "
            f"{one_line(str(output))}")
        return
    if query is None:
        raise UsageError("give a QUERY video (or predictions JSON), or --all")
    result = search.similar(query, library, top=top, by=by, weights=weights)
    if as_json:
        _print_json(result.to_dict())
        return
    _notes(result.notes)
    table = _table(f"like {query.name}", ("score", "why"))
    for k, m in enumerate(result.matches, 1):
        table.add_row(str(k), one_line(m.relpath), f"{m.score:.3f}", one_line(m.why))
    out.print(table)
    if not result.matches:
        say("no video of the library can be compared with it")


def recommend(
    library: LibraryOpt,
    stash: Annotated[Optional[str], typer.Option(
        "--stash", help="A Stash server (http://HOST:PORT) whose watch history to read: plays, "
                        "O's, ratings. Only read.", show_default=False)] = None,
    liked: Annotated[Optional[Path], typer.Option(
        help="Instead of Stash: a list of liked video files, one a line.")] = None,
    top: Annotated[int, typer.Option(help="How many videos to recommend.")] = DEFAULT_RECOMMEND_TOP,
    by: By = DEFAULT_BY,
    weights: Weights = None,
    api_key_file: KeyFile = None,
    path_map: PathMaps = None,
    timeout: Timeout = 30.0,
    retries: Retries = 3,
    as_json: AsJson = False,
) -> None:
    """Videos for this viewer: the library's unplayed videos most like the ones they played,
    O'd and rated (recent and rated weigh more), with why and a link to each scene in Stash.

    Example: phar recommend --library ~/phar-out --stash http://nas:9999
    """
    from phar_cli._cli.stash import _api, _maps
    from phar_cli.similarity.recommend import recommend as run

    if (stash is None) == (liked is None):
        raise UsageError("give --stash URL (the viewer's history) or --liked FILE, one of them")
    if stash is not None:
        with _api(stash, api_key_file, timeout, retries) as api:
            result = run(library, stash=api, maps=_maps(path_map), top=top, by=by,
                         weights=weights)
    else:
        result = run(library, liked=liked, top=top, by=by, weights=weights)
    if as_json:
        _print_json(result.to_dict())
        return
    _notes(result.notes)
    where = f" (scenes link to Stash at {one_line(stash)})" if stash else ""
    table = _table(f"for you, from {len(result.engaged)} videos you engaged with{where}",
                   ("score", "why", "Stash") if stash else ("score", "why"))
    for k, r in enumerate(result.items, 1):
        row = [str(k), one_line(r.relpath), f"{r.score:.3f}", one_line(r.why)]
        # a terminal hyperlink: the full URL would wrap in a narrow table (JSON has it whole)
        scene = f"[link={r.link}]scene {r.scene_id}[/link]" if r.link else ""
        table.add_row(*row, *([scene] if stash else []))
    out.print(table)
    if result.unanalysed:
        shown = result.unanalysed[:SHOWN_UNANALYSED]
        more = f" and {len(result.unanalysed) - len(shown)} more" if len(shown) < len(
            result.unanalysed) else ""
        what = "scenes phar has not analysed" if stash else "liked files not in the library"
        say(f"{len(result.unanalysed)} {what} left out: {one_line(', '.join(shown))}{more}")


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("video")
    for name in columns:
        table.add_column(name, justify="right" if name == "score" else "left")
    return table


def _notes(notes: list[str]) -> None:
    for note in notes:
        say(f"[yellow]{one_line(note)}[/]")
