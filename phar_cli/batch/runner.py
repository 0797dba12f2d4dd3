"""The batch driver: plan, dispatch to an executor, write each video's outputs, record it.

The driver is the only process that writes files or the catalog. A video is marked done only
after all its files are in place (each written atomically), so whatever stops a run (an error, a
signal, a kill -9, a power cut) leaves every `done` row true; anything else is redone next time.

Stopping: `request_stop()` (the CLI's first Ctrl-C or SIGTERM) stops dispatching and waits for the
videos in flight, which are recorded as usual; `request_stop(now=True)` (a second signal) ends the
workers at once and leaves their videos pending. Progress goes to an `on_event` callback.
"""
from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phar_cli.batch.catalog import Catalog
from phar_cli.batch.executors import Executor, lost_error
from phar_cli.batch.inputs import BatchInput
from phar_cli.batch.outputs import OutputOptions, write_outputs
from phar_cli.batch.plan import Plan, PlanItem, make_plan
from phar_cli.batch.signals import backfill
from phar_cli.batch.worker import Job, one_line
from phar_cli.core.engine import EngineOptions
from phar_cli.core.predictions import Analysis, load_predictions
from phar_cli.errors import PharError, UsageError
from phar_cli.models.download import sha256_file
from phar_cli.atomic import is_temp_name


@dataclass
class BatchEvent:
    """What the runner tells its caller. kind: scan (done/total files looked at), plan, started
    (an executor is up: `message` says which), begin (a video dispatched), end (a video finished:
    `status` done/rendered/failed/abandoned), pushed (to Stash: `status` pushed/unchanged/
    no-scene/failed), stopping."""

    kind: str
    item: PlanItem | None = None
    status: str | None = None
    error: str | None = None
    done: int = 0
    total: int = 0
    plan: Plan | None = None
    message: str | None = None


@dataclass
class BatchSummary:
    run_id: int
    planned: int = 0
    skipped: int = 0
    analysed: int = 0
    rendered: int = 0
    left: int = 0               # planned but not finished (stopped): pending for the next run
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, error)
    video_seconds: float = 0.0  # of the videos analysed in this run
    wall_seconds: float = 0.0
    stopped: bool = False
    recovered: int = 0          # rows a killed earlier run had left 'running'


class _StoppedWhileScanning(Exception):
    pass


class FatalWorkerError(PharError):
    """A worker cannot analyse anything (model files, device): the batch stops."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class BatchRunner:
    def __init__(self, engine: EngineOptions, outputs: OutputOptions, outdir: Path,
                 executor: Executor, *, rehash: bool = False,
                 on_event: Callable[[BatchEvent], None] | None = None,
                 stash: Any = None) -> None:
        self.engine = engine
        self.stash = stash  # a `stash.push.BatchPusher`: each video pushed once it is written
        self.outputs = outputs
        self.outdir = Path(outdir)
        self.executor = executor
        self.rehash = rehash
        self.on_event = on_event or (lambda event: None)
        self._stopping = False
        self._stop_now = False

    def request_stop(self, now: bool = False) -> None:
        """Stop dispatching (and with `now`, abandon the videos in flight). Signal-handler safe."""
        self._stopping = True
        self._stop_now = self._stop_now or now

    @property
    def stopping(self) -> bool:
        return self._stopping

    def run(self, inputs: list[BatchInput]) -> BatchSummary:
        if self.outdir.exists() and not self.outdir.is_dir():
            raise UsageError(f"{self.outdir}: output is a file, not a folder")
        self.outdir.mkdir(parents=True, exist_ok=True)
        self._protected = {str(i.path) for i in inputs}
        started = time.monotonic()
        with Catalog.open(self.outdir) as catalog:
            recovered = catalog.recover()
            _remove_temp_files(self.outdir)
            backfill(catalog, self.outdir)  # profiles of videos done before the catalog kept them
            try:
                plan = make_plan(inputs, catalog, self.outdir, self.engine, self.outputs,
                                 rehash=self.rehash, scanned=self._scanned)
            except _StoppedWhileScanning:
                return BatchSummary(0, stopped=True, recovered=recovered,
                                    wall_seconds=time.monotonic() - started)
            todo = [i for i in plan.items if i.action != "skip"]
            summary = BatchSummary(0, planned=len(todo), skipped=plan.count("skip"), recovered=recovered)
            summary.run_id = catalog.start_run(self.executor.name, self.executor.slots, len(todo),
                                               summary.skipped)
            self.on_event(BatchEvent("plan", plan=plan, total=len(todo)))
            completed = False
            try:
                self._run(catalog, plan, todo, summary)
                completed = not self._stopping
            finally:
                summary.stopped = self._stopping
                summary.wall_seconds = time.monotonic() - started
                summary.left = summary.planned - summary.analysed - summary.rendered - len(summary.failed)
                catalog.finish_run(summary.run_id, "finished" if completed else "stopped")
        return summary

    def _scanned(self, done: int, total: int) -> None:
        if self._stopping:  # a stop while a large library is being scanned: nothing started yet
            raise _StoppedWhileScanning
        self.on_event(BatchEvent("scan", done=done, total=total))

    # -- the loop -----------------------------------------------------------------------------

    def _run(self, catalog: Catalog, plan: Plan, todo: list[PlanItem], summary: BatchSummary) -> None:
        for item in plan.items:  # done before: pushed now if not yet, or pushed otherwise
            if item.action == "skip" and not self._stopping:
                self._push(catalog, item)
        queue: deque[PlanItem] = deque()
        for item in todo:  # renders first: no model, no worker, seconds for a whole library
            if item.action == "render" and not self._stopping:
                if not self._render(catalog, plan, item, summary):
                    queue.append(item)
            elif item.action == "analyse":
                queue.append(item)
        if not queue or self._stopping:
            return
        inflight: dict[Future, tuple[PlanItem, int]] = {}
        announced = False
        try:
            self.executor.start()
            catalog.run_workers(summary.run_id, self.executor.slots)
            self.on_event(BatchEvent("started", message=self.executor.describe()))
            while queue or inflight:
                while queue and not self._stopping and len(inflight) < self.executor.slots:
                    item = queue.popleft()
                    attempt = catalog.begin(item.video_id, summary.run_id, "analyse")
                    vr = (self.stash.vr_mode(str(item.input.path))
                          if self.stash is not None and self.engine.vr == "auto" else None)
                    job = Job(item.video_id, str(item.input.path), vr)
                    inflight[self.executor.submit(job)] = (item, attempt)
                    self.on_event(BatchEvent("begin", item=item))
                if self._stopping and not announced:
                    announced = True
                    self.on_event(BatchEvent("stopping", total=len(inflight)))
                if not inflight:
                    break
                finished, _ = wait(list(inflight), timeout=0.2, return_when=FIRST_COMPLETED)
                if self._stop_now:
                    break
                for future in finished:
                    item, attempt = inflight.pop(future)
                    try:
                        self._collect(catalog, plan, future, item, attempt, summary)
                    finally:
                        self.executor.release(future)
        finally:
            for item, attempt in inflight.values():
                catalog.abandoned(item.video_id, attempt)
                self.on_event(BatchEvent("end", item=item, status="abandoned"))
            self.executor.stop(now=bool(inflight) or self._stop_now)

    def _collect(self, catalog: Catalog, plan: Plan, future: Future, item: PlanItem, attempt: int,
                 summary: BatchSummary) -> None:
        try:
            result: dict[str, Any] = future.result()
        except Exception as ex:  # noqa: BLE001 - the executor's failure, not the video's
            if self._stopping:  # a worker ended by the stop itself: redo the video next time
                catalog.abandoned(item.video_id, attempt)
                self.on_event(BatchEvent("end", item=item, status="abandoned"))
            else:
                self._failed(catalog, item, attempt, lost_error(ex), summary)
            return
        if result["status"] == "fatal":
            catalog.abandoned(item.video_id, attempt)
            self._stopping = self._stop_now = True
            raise FatalWorkerError(result["error"], result.get("exit_code", 1))
        if result["status"] == "failed":
            self._failed(catalog, item, attempt, result["error"], summary, result)
            return
        try:
            analysis = Analysis.from_dict(result["analysis"], source=str(item.input.path))
            self._write(catalog, plan, item, attempt, analysis, result)
        except PharError as ex:
            self._failed(catalog, item, attempt, one_line(ex), summary, result)
            return
        summary.analysed += 1
        summary.video_seconds += analysis.video.duration
        self.on_event(BatchEvent("end", item=item, status="done"))
        self._push(catalog, item)

    def _render(self, catalog: Catalog, plan: Plan, item: PlanItem, summary: BatchSummary) -> bool:
        """Rewrite a done video's outputs from its predictions JSON; False: analyse it instead."""
        attempt = catalog.begin(item.video_id, summary.run_id, "render")
        try:
            analysis = load_predictions(item.source)
            self._write(catalog, plan, item, attempt, analysis, None)
        except PharError:
            catalog.abandoned(item.video_id, attempt)
            return False
        summary.rendered += 1
        self.on_event(BatchEvent("end", item=item, status="rendered"))
        self._push(catalog, item)
        return True

    def _write(self, catalog: Catalog, plan: Plan, item: PlanItem, attempt: int,
               analysis: Analysis, result: dict[str, Any] | None) -> None:
        for name in self.outputs.files(item.input.relpath):
            if str((self.outdir / name).resolve()) in self._protected:
                raise PharError(f"{self.outdir / name}: output would overwrite an input video; "
                                "choose another output folder")
        written = write_outputs(analysis, item.input.relpath, self.outdir, self.outputs)
        catalog.done(item.video_id, attempt, analysis_hash=plan.analysis_hash,
                     outputs_hash=plan.outputs_hash, models=plan.models, outputs=written.files,
                     duration=analysis.video.duration, windows=len(analysis.windows),
                     seconds=result["seconds"] if result else None,
                     worker=result["worker"] if result else None,
                     segments=[s.to_dict() for s in written.segments],
                     tags=[t.to_dict() for t in written.tags],
                     profile=written.profile,
                     look=analysis.look)

    def _push(self, catalog: Catalog, item: PlanItem) -> None:
        """The video's predictions to Stash, unless pushed before as they are with the same
        settings. A video without a scene is recorded and tried again next run; a server error
        stops the batch (every later push would fail the same way)."""
        if self.stash is None:
            return
        predictions = self.outdir / f"{item.input.relpath}.json"
        digest = sha256_file(predictions)
        if not self.stash.needed(catalog.pushed(item.video_id), digest):
            return
        result = self.stash.push(predictions, str(item.input.path))
        catalog.record_push(item.video_id, self.stash.digest, digest, result.status,
                            result.scene_id, result.error)
        self.on_event(BatchEvent("pushed", item=item, status=result.status, error=result.error))

    def _failed(self, catalog: Catalog, item: PlanItem, attempt: int, error: str,
                summary: BatchSummary, result: dict[str, Any] | None = None) -> None:
        catalog.failed(item.video_id, attempt, error, (result or {}).get("worker"),
                       (result or {}).get("seconds"))
        summary.failed.append((str(item.input.path), error))
        self.on_event(BatchEvent("end", item=item, status="failed", error=error))


def _remove_temp_files(outdir: Path) -> None:
    """Temp files a killed run left mid-write (never renamed, so never counted as outputs)."""
    for folder, _, files in os.walk(outdir):
        for name in files:
            if is_temp_name(name):
                try:
                    os.unlink(os.path.join(folder, name))
                except OSError:
                    pass
