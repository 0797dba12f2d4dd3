"""What `phar batch` shows: Rich progress over videos and hours of video (with ETA), failures as
they happen, a summary at the end, the `--report` tables, and the signal handling that turns a
first Ctrl-C/SIGTERM into "finish what is running" and a second into "stop now"."""
from __future__ import annotations

import contextlib
import datetime as dt
import signal
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table

from phar_cli.batch.report import BatchReport
from phar_cli.batch.runner import BatchEvent, BatchRunner, BatchSummary


def hours(seconds: float | None, unit_of: float | None = None) -> str:
    """Video time for people: hours from 6 minutes up, else minutes (`unit_of` picks the unit)."""
    seconds = seconds or 0.0
    big = (unit_of if unit_of is not None else seconds) >= 360
    return f"{seconds / 3600:.2f} h" if big else f"{seconds / 60:.1f} min"


def failure(path: str, error: str) -> str:
    """An error line already names its file; do not say it twice."""
    return error if error.startswith(path) else f"{path}: {error}"


class BatchView:
    """Turns the runner's events into progress bars and lines on stderr."""

    def __init__(self, console: Console, quiet: bool = False, verbose: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.verbose = verbose
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[amount]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, disable=quiet, transient=False)
        self.tasks: dict[str, Any] = {}
        self.seconds_done = 0.0
        self.seconds_total = 0.0
        self.videos_done = 0
        self.videos_total = 0

    def __enter__(self) -> BatchView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def print(self, text: str) -> None:
        if not self.quiet:
            self.progress.console.print(text, highlight=False, soft_wrap=True)

    def __call__(self, event: BatchEvent) -> None:
        handler = getattr(self, f"_on_{event.kind}", None)
        if handler is not None:
            handler(event)

    def _on_scan(self, event: BatchEvent) -> None:
        if "scan" not in self.tasks:
            self.tasks["scan"] = self.progress.add_task("Checking files", total=event.total, amount="")
        self.progress.update(self.tasks["scan"], completed=event.done, total=event.total,
                             amount=f"{event.done}/{event.total}")

    def _on_plan(self, event: BatchEvent) -> None:
        plan = event.plan
        assert plan is not None
        if "scan" in self.tasks:
            self.progress.remove_task(self.tasks.pop("scan"))
        todo = [i for i in plan.items if i.action != "skip"]
        self.videos_total = len(todo)
        self.seconds_total = sum(i.duration or 0.0 for i in todo)
        rewrite = plan.count("render")
        rewrite_note = f", {rewrite} only to rewrite from their predictions" if rewrite else ""
        self.print(f"{len(plan.items)} videos: {len(todo)} to do ({hours(self.seconds_total)} of "
                   f"video{rewrite_note}), {plan.count('skip')} done before and unchanged")
        if todo:
            self.tasks["videos"] = self.progress.add_task("Videos", total=self.videos_total, amount="")
            self.tasks["hours"] = self.progress.add_task(
                "Hours of video", total=max(self.seconds_total, 1e-9), amount="")
            self._refresh()

    def _on_started(self, event: BatchEvent) -> None:
        self.print(f"workers: {event.message}")

    def _on_stopping(self, event: BatchEvent) -> None:
        running = (f": waiting for the {event.total} video(s) in flight (Ctrl-C again to abandon "
                   "them; they are redone next time)") if event.total else ""
        self.console.print(f"[yellow]Stopping[/]{running}", highlight=False)

    def _on_pushed(self, event: BatchEvent) -> None:
        assert event.item is not None
        if event.status in ("no-scene", "failed"):
            self.print(f"[yellow]stash: {escape(str(event.item.input.path))}: "
                       f"{escape(event.error or event.status or '')}[/]")
        elif self.verbose:
            self.print(f"stash: {event.status}: {escape(str(event.item.input.path))}")

    def _on_end(self, event: BatchEvent) -> None:
        item = event.item
        assert item is not None
        path = escape(str(item.input.path))
        if event.status == "failed":
            self.console.print(f"[red]failed:[/] {escape(failure(str(item.input.path), event.error or ''))}",
                               highlight=False, soft_wrap=True)
        elif event.status == "abandoned":
            if self.verbose:
                self.print(f"[yellow]left for the next run:[/] {path}")
            return
        elif self.verbose:
            self.print(f"[green]{event.status}:[/] {path}")
        self.videos_done += 1
        self.seconds_done += item.duration or 0.0
        self._refresh()

    def _refresh(self) -> None:
        if "videos" in self.tasks:
            self.progress.update(self.tasks["videos"], completed=self.videos_done,
                                 amount=f"{self.videos_done}/{self.videos_total}")
            self.progress.update(self.tasks["hours"], completed=self.seconds_done,
                                 amount=f"{hours(self.seconds_done, self.seconds_total)} of "
                                        f"{hours(self.seconds_total)}")


def print_summary(console: Console, summary: BatchSummary) -> None:
    """The end of a run: counts, and every failure with its reason."""
    parts = [f"{summary.analysed} analysed"]
    if summary.rendered:
        parts.append(f"{summary.rendered} rewritten from their predictions")
    parts += [f"{len(summary.failed)} failed", f"{summary.skipped} skipped (done before)"]
    if summary.left:
        parts.append(f"{summary.left} left for the next run")
    speed = (f", {summary.video_seconds / summary.wall_seconds:.1f}x real time"
             if summary.wall_seconds > 0 and summary.video_seconds else "")
    console.print(f"{', '.join(parts)}; {hours(summary.video_seconds)} of video in "
                  f"{summary.wall_seconds:.1f} s{speed}", highlight=False)
    if summary.recovered:
        console.print(f"({summary.recovered} video(s) left running by an earlier, killed run "
                      "were queued again)", highlight=False)
    if summary.failed:
        table = Table(title=f"{len(summary.failed)} failed", title_justify="left")
        table.add_column("video", overflow="fold")
        table.add_column("error", overflow="fold")
        for path, error in summary.failed:
            table.add_row(escape(path), escape(_without(path, error)))
        console.print(table)


def print_report(console: Console, report: BatchReport) -> None:
    """`phar batch --report`: from the catalog alone."""
    summary = Table(title=f"phar batch: {report.catalog}", title_justify="left", show_header=False)
    summary.add_column("what")
    summary.add_column("value", justify="right")
    status = report.by_status
    summary.add_row("videos", str(report.videos))
    summary.add_row("done", f"{status.get('done', 0)}  ({hours(report.done_seconds)} of video)")
    summary.add_row("failed", str(status.get("failed", 0)))
    pending = status.get("pending", 0) + status.get("running", 0)
    if pending:
        summary.add_row("not done yet", str(pending))
    summary.add_row("hours of video", f"{hours(report.done_seconds, report.total_seconds)} done of "
                                      f"{hours(report.total_seconds)} catalogued")
    if report.throughput is not None:
        summary.add_row("throughput", f"{report.throughput:.2f}x real time "
                                      f"({report.throughput:.2f} h of video per hour), "
                                      f"{report.videos_per_hour:.0f} videos/h")
    if report.per_worker_speed is not None:
        summary.add_row("per worker", f"{report.per_worker_speed:.2f}x real time (analysis alone)")
    summary.add_row("analyses", f"{report.analyses} in {report.wall_seconds:.0f} s of runs")
    console.print(summary)
    if report.runs:
        runs = Table(title="recent runs", title_justify="left")
        for col in ("run", "started", "wall", "status", "executor", "analysed", "failed"):
            runs.add_column(col, justify="right" if col in ("run", "wall", "analysed", "failed") else "left")
        for r in report.runs:
            started = dt.datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M:%S")
            wall = f"{r.wall_seconds:.0f} s" if r.wall_seconds is not None else "?"
            runs.add_row(str(r.id), started, wall, r.status, f"{r.executor} x{r.workers}",
                         str(r.analysed), str(r.failed))
        console.print(runs)
    if report.tags:
        tags = Table(title="library tags (top-1 seconds over done videos)", title_justify="left")
        for col in ("label", "hours", "videos"):
            tags.add_column(col, justify="left" if col == "label" else "right")
        for label, seconds, videos in report.tags:
            tags.add_row(label, f"{seconds / 3600:.2f}", str(videos))
        console.print(tags)
    if report.failed:
        failed = Table(title=f"{len(report.failed)} failed", title_justify="left")
        failed.add_column("video", overflow="fold")
        failed.add_column("error", overflow="fold")
        for path, error in report.failed:
            failed.add_row(escape(path), escape(_without(path, error)))
        console.print(failed)


def _without(path: str, error: str) -> str:
    return error[len(path):].lstrip(": ") if error.startswith(path + ":") else error


@contextlib.contextmanager
def stop_on_signals(runner: BatchRunner) -> Iterator[list[int]]:
    """SIGINT/SIGTERM: the first stops dispatching (running videos finish and are recorded), the
    second abandons them. Yields a list that receives the signals seen (for the exit code)."""
    seen: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        seen.append(signum)
        runner.request_stop(now=len(seen) > 1)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield seen
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
