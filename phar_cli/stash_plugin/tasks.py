"""What each of the plugin's tasks does, on phar's own machinery: `phar batch`'s library path
(catalog, resume, identity of options) with its Stash push, `phar stash pull`, `phar recommend`.

A task killed by Stash (SIGKILL, without warning) loses nothing: the analyses run in this
process (no orphaned worker), the catalog redoes what was in flight, and a push replaces only
phar's own markers, so a rerun writes no duplicate.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phar_cli.atomic import atomic_write_bytes
from phar_cli.batch.catalog import CATALOG_NAME, Catalog
from phar_cli.errors import PharError, UsageError
from phar_cli.stash.api import Scene, StashApi, Tag
from phar_cli.stash.paths import PathMap, parse_path_maps, to_local
from phar_cli.stash.push import PushOptions, TagBook
from phar_cli.stash.settings import StashSettings, load_settings
from phar_cli.stash_plugin.protocol import PluginInput, PluginLog
from phar_cli.stash_plugin.settings import PluginSettings

SCENE_LIST = "stash-scenes.txt"        # the manifest of the scenes a run analyses
ANNOTATIONS = "stash-annotations.csv"
RECOMMENDATIONS = "recommendations.json"


@dataclass
class Context:
    api: StashApi
    settings: PluginSettings
    log: PluginLog
    source: PluginInput

    @property
    def rules(self) -> StashSettings:
        """The per-label rules, the minimum score setting as their default threshold."""
        rules = load_settings(self.settings.stash_settings)
        if self.settings.min_score is None:
            return rules
        return dataclasses.replace(rules, defaults={**rules.defaults,
                                                    "threshold": self.settings.min_score})

    @property
    def maps(self) -> tuple[PathMap, ...]:
        return parse_path_maps(self.settings.path_map)


# -- analyse ----------------------------------------------------------------------------------

def analyse(ctx: Context, scope: str) -> dict[str, Any]:
    """Analyse the queued scenes (`scope` 'queued') or every scene without phar's status tag
    ('all'), push each as it finishes, untag the queue, tag what phar cannot read."""
    rules = ctx.rules
    book = TagBook(ctx.api, rules, dry_run=False)
    if scope == "queued":
        queue = book.get(ctx.settings.queue_tag)
        scenes = ctx.api.scenes_tagged(queue.id) if queue else []
    else:
        scenes = ctx.api.scenes_tagged(book.ensure(rules.status).id, exclude=True)
    videos = {scene.id: _local(scene, ctx.maps) for scene in scenes}
    without = [s for s in scenes if videos[s.id] is None]
    for scene in without:
        ctx.log.warning(f"scene {scene.id} ({scene.title or 'untitled'}) has no file: skipped")
    todo = {sid: path for sid, path in videos.items() if path is not None}
    if not todo:
        why = (f"no scene has the tag {ctx.settings.queue_tag!r}" if scope == "queued"
               else f"every scene has the tag {rules.status!r}")
        ctx.log.info(f"nothing to analyse: {why}")
        ctx.log.progress(1.0)
        return {"scenes": 0}
    ctx.log.info(f"{len(todo)} scenes to analyse into {ctx.settings.output_dir}")
    summary = _run_batch(ctx, sorted(set(todo.values())), rules)
    statuses = _statuses(ctx.settings.output_dir)
    done, failed = [], []
    for scene in scenes:
        path = todo.get(scene.id)
        if path is None:
            continue
        state = statuses.get(_key(path))
        if state is not None and state[0] == "done" and state[1] in ("pushed", "unchanged"):
            done.append(scene)
        elif state is not None and state[0] == "failed":
            failed.append((scene, state[2] or "failed"))
    queue = book.get(ctx.settings.queue_tag)
    error_tag = book.get(ctx.settings.error_tag)
    for scene in done:
        off = [t.id for t in (queue, error_tag) if t is not None and _has(scene, t)]
        if off:
            ctx.api.remove_scene_tags(scene.id, off)
    if failed:
        error_tag = book.ensure(ctx.settings.error_tag)
        for scene, error in failed:
            ctx.log.error(f"scene {scene.id}: {error}")
            if not _has(scene, error_tag):
                ctx.api.add_scene_tags(scene.id, [error_tag.id])
    ctx.log.progress(1.0)
    ctx.log.info(f"{len(done)} scenes analysed and in Stash, {len(failed)} failed "
                 f"(tagged {ctx.settings.error_tag!r})"
                 + (f", {summary.left} left for the next run" if summary.left else ""))
    return {"scenes": len(todo), "done": len(done), "failed": len(failed),
            "analysed": summary.analysed, "left": summary.left,
            "output_dir": str(ctx.settings.output_dir)}


def _run_batch(ctx: Context, paths: list[str], rules: StashSettings) -> Any:
    from phar_cli.batch.executors import InProcessExecutor
    from phar_cli.batch.inputs import find_inputs
    from phar_cli.batch.outputs import OutputOptions
    from phar_cli.batch.runner import BatchRunner
    from phar_cli.batch.worker import WorkerSetup
    from phar_cli.core.engine import Engine
    from phar_cli.core.load import engine_options
    from phar_cli.models.registry import config_dir, models_home
    from phar_cli.stash.push import BatchPusher

    s = ctx.settings
    if s.phar_home:
        os.environ["PHAR_HOME"] = s.phar_home
    options = engine_options(s.bundle, profile=s.profile, device=s.device)
    Engine(options)  # checks the device and the label maps before anything is written
    s.output_dir.mkdir(parents=True, exist_ok=True)
    scene_list = s.output_dir / SCENE_LIST
    atomic_write_bytes(scene_list, "".join(f"{p}\n" for p in paths).encode())
    inputs = find_inputs(scene_list)
    pusher = BatchPusher(ctx.api, PushOptions(rules, ctx.maps))
    setup = WorkerSetup(options, project_root=str(config_dir().parent),
                        models_home=str(models_home()))
    runner = BatchRunner(options, OutputOptions(), s.output_dir, InProcessExecutor(setup),
                         on_event=_Progress(ctx.log), stash=pusher)
    return runner.run(inputs)


class _Progress:
    """The batch's events as Stash job progress and one log line a scene."""

    def __init__(self, log: PluginLog) -> None:
        self.log = log
        self.total = 0
        self.done = 0

    def __call__(self, event: Any) -> None:
        if event.kind == "plan":
            self.total = max(event.total, 1)
            self.log.progress(0.0)
        elif event.kind == "end" and event.item is not None:
            self.done += 1
            self.log.progress(self.done / max(self.total, 1))
            what = f"{event.status}" + (f": {event.error}" if event.error else "")
            self.log.info(f"{event.item.input.path}: {what}")
        elif event.kind == "pushed" and event.item is not None:
            what = event.status + (f": {event.error}" if event.error else "")
            self.log.info(f"{event.item.input.path}: Stash {what}")


def _local(scene: Scene, maps: tuple[PathMap, ...]) -> str | None:
    """The scene's primary file as this machine sees it."""
    return to_local(scene.files[0].path, maps) if scene.files else None


def _key(path: str) -> str:
    """A path as the batch catalog records it (symlinks resolved where the file exists)."""
    here = Path(os.path.normpath(path))
    return str(here.resolve()) if here.exists() else str(here)


def _statuses(outdir: Path) -> dict[str, tuple[str, str | None, str | None]]:
    """Video path -> (status, last push status, error) from the catalog."""
    with Catalog.read(outdir) as catalog:
        return {path: (row.status, (catalog.pushed(row.id) or (None, None, None))[2], row.error)
                for path, row in catalog.videos().items()}


def _has(scene: Scene, tag: Tag) -> bool:
    return any(t.id == tag.id for t in scene.tags)


# -- the hook ---------------------------------------------------------------------------------

def queue_new(ctx: Context) -> dict[str, Any]:
    """Scene.Create.Post: give the new scene the queue tag when the setting says so. Never
    analyses: Stash waits for a hook before it answers the save."""
    hook = ctx.source.hook or {}
    if not ctx.settings.queue_new_scenes:
        return {"queued": False, "why": "the 'Queue new scenes' setting is off"}
    scene_id = str(hook.get("id") or "")
    if not scene_id:
        raise PharError("the Scene.Create.Post hook came without a scene id")
    tag = TagBook(ctx.api, ctx.rules, dry_run=False).ensure(ctx.settings.queue_tag)
    ctx.api.add_scene_tags(scene_id, [tag.id])
    return {"queued": True, "scene": scene_id}


# -- push, pull, recommend --------------------------------------------------------------------

def push_results(ctx: Context) -> dict[str, Any]:
    from phar_cli.stash.push import push
    from phar_cli.stash.sources import push_sources

    outdir = ctx.settings.output_dir
    sources = push_sources(outdir)
    for note in sources.notes:
        ctx.log.warning(note)
    total = max(len(sources.items), 1)

    def progress(step: str, done: float, _total: float) -> None:
        ctx.log.progress(done / total)

    report = push(ctx.api, sources.items, PushOptions(ctx.rules, ctx.maps), progress=progress)
    for scene in report.scenes:
        ctx.log.info(f"{scene.video}: {scene.status}" + (f": {scene.error}" if scene.error
                                                          else ""))
    ctx.log.progress(1.0)
    return report.counts()


def pull_corrections(ctx: Context) -> dict[str, Any]:
    from phar_cli.stash.pull import PullOptions, pull, pull_labels, write_annotations

    rules = ctx.rules
    report = pull(ctx.api, PullOptions(pull_labels(rules), rules, ctx.maps))
    ctx.settings.output_dir.mkdir(parents=True, exist_ok=True)
    target = ctx.settings.output_dir / ANNOTATIONS
    write_annotations(report.rows, target)
    counts = report.counts()
    ctx.log.info(f"wrote {counts['rows']} annotations ({counts['positives']} from people's "
                 f"markers, {counts['negatives']} flagged) to {target}")
    ctx.log.progress(1.0)
    return {"annotations": str(target), **counts}


def recommend(ctx: Context) -> dict[str, Any]:
    import orjson

    from phar_cli.similarity.library import load_library
    from phar_cli.similarity.recommend import from_stash

    result = from_stash(ctx.api, load_library(ctx.settings.output_dir), ctx.maps)
    for note in result.notes:
        ctx.log.warning(note)
    for k, item in enumerate(result.items, 1):
        ctx.log.info(f"{k:2d}. {item.relpath}  {item.score:.3f}  {item.why}  {item.link or ''}")
    if result.unanalysed:
        ctx.log.info(f"{len(result.unanalysed)} scenes phar has not analysed were left out")
    target = ctx.settings.output_dir / RECOMMENDATIONS
    atomic_write_bytes(target, orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2))
    ctx.log.progress(1.0)
    return {"recommendations": str(target), "count": len(result.items)}


# -- undo -------------------------------------------------------------------------------------

def undo(ctx: Context) -> dict[str, Any]:
    """Delete phar's markers nobody edited, take the tags phar made off every scene and out of
    Stash (those still on a marker someone edited stay), and forget the output folder's pushes
    so that a later push writes everything again. Tags that were there before phar stay."""
    rules = ctx.rules
    parent = ctx.api.find_tag(rules.parent_tag)
    if parent is None:
        ctx.log.info(f"no tag {rules.parent_tag!r} in Stash: phar has made nothing there")
        return {"markers": 0, "tags": 0}
    made = [parent] + [t for t in ctx.api.tags_under(parent.id)
                       if (t.description or "").startswith("Made by phar")]
    markers = ctx.api.markers_with_tags([t.id for t in made])
    removed = 0
    for k, marker in enumerate(markers, 1):
        if marker.has(parent) and not marker.edited:
            ctx.api.destroy_marker(marker.id)
            removed += 1
        ctx.log.progress(0.8 * k / max(len(markers), 1))
    kept = {t.id for m in ctx.api.markers_with_tags([t.id for t in made])
            for t in (m.primary_tag, *m.tags)}
    destroyed = []
    for tag in made:
        if tag.id not in kept:
            ctx.api.destroy_tag(tag.id)  # Stash takes a destroyed tag off every scene
            destroyed.append(tag.name)
    forgotten = _forget_pushes(ctx.settings.output_dir)
    ctx.log.info(f"deleted {removed} of phar's markers and {len(destroyed)} of its tags"
                 + (f"; {len(kept & {t.id for t in made})} tags stay on markers people edited"
                    if kept & {t.id for t in made} else ""))
    ctx.log.progress(1.0)
    return {"markers": removed, "tags": destroyed, "pushes_forgotten": forgotten}


def _forget_pushes(outdir: Path) -> int:
    if not (outdir / CATALOG_NAME).is_file():
        return 0
    with Catalog.open(outdir) as catalog:
        return catalog.forget_pushes()


TASKS = {"analyse-queued": lambda ctx: analyse(ctx, "queued"),
         "analyse-all": lambda ctx: analyse(ctx, "all"), "push": push_results,
         "pull": pull_corrections, "recommend": recommend, "undo": undo,
         "queue-new": queue_new}


def run_task(ctx: Context) -> Any:
    task = ctx.source.task
    if task not in TASKS:
        raise UsageError(f"unknown phar plugin task {task!r} (phar.yml and this phar disagree: "
                         "install the plugin again with `phar stash plugin install`)")
    return TASKS[task](ctx)
