"""A batch's summary read from its catalog alone (no inputs, no models): what is done, what
failed and why, how many hours of video, and how fast. `phar batch --report` renders it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from phar_cli.batch.catalog import Catalog


@dataclass
class RunInfo:
    id: int
    started_at: float
    wall_seconds: float | None
    status: str
    executor: str | None
    workers: int | None
    analysed: int
    failed: int


@dataclass
class BatchReport:
    catalog: Path
    videos: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    done_seconds: float = 0.0          # hours of video done = done_seconds / 3600
    total_seconds: float = 0.0         # of every catalogued video whose duration is known
    failed: list[tuple[str, str]] = field(default_factory=list)
    analysed_seconds: float = 0.0      # video analysed over all runs (reanalyses count again)
    wall_seconds: float = 0.0          # the runs' wall time
    worker_seconds: float = 0.0        # summed analysis time on the workers
    analyses: int = 0
    runs: list[RunInfo] = field(default_factory=list)
    tags: list[tuple[str, float, int]] = field(default_factory=list)  # label, seconds, videos

    @property
    def throughput(self) -> float | None:
        """Seconds of video analysed per second of wall time (x real time), over all runs."""
        return self.analysed_seconds / self.wall_seconds if self.wall_seconds > 0 else None

    @property
    def videos_per_hour(self) -> float | None:
        return self.analyses * 3600 / self.wall_seconds if self.wall_seconds > 0 else None

    @property
    def per_worker_speed(self) -> float | None:
        return self.analysed_seconds / self.worker_seconds if self.worker_seconds > 0 else None


def read_report(outdir: Path, recent_runs: int = 5) -> BatchReport:
    with Catalog.read(outdir) as catalog:
        db = catalog.conn
        report = BatchReport(catalog.path)
        report.by_status = dict(db.execute("SELECT status, count(*) FROM videos GROUP BY status").fetchall())
        report.videos = sum(report.by_status.values())
        report.done_seconds = db.execute(
            "SELECT coalesce(sum(duration), 0) FROM videos WHERE status='done'").fetchone()[0]
        report.total_seconds = db.execute("SELECT coalesce(sum(duration), 0) FROM videos").fetchone()[0]
        report.failed = [tuple(r) for r in db.execute(
            "SELECT path, coalesce(error, '') FROM videos WHERE status='failed' ORDER BY path")]
        report.analyses, report.analysed_seconds, report.worker_seconds = db.execute(
            "SELECT count(*), coalesce(sum(v.duration), 0), coalesce(sum(a.seconds), 0)"
            " FROM analyses a JOIN videos v ON v.id = a.video_id"
            " WHERE a.kind='analyse' AND a.status='done'").fetchone()
        runs = db.execute(
            "SELECT r.id, r.started_at,"
            " coalesce(r.finished_at, (SELECT max(finished_at) FROM analyses WHERE run_id=r.id))"
            "   - r.started_at,"
            " r.status, r.executor, r.workers,"
            " (SELECT count(*) FROM analyses WHERE run_id=r.id AND kind='analyse' AND status='done'),"
            " (SELECT count(*) FROM analyses WHERE run_id=r.id AND status='failed')"
            " FROM runs r ORDER BY r.id").fetchall()
        report.runs = [RunInfo(*r) for r in runs][-recent_runs:]
        report.wall_seconds = sum(r[2] or 0.0 for r in runs if r[6] or r[7])
        report.tags = [tuple(r) for r in db.execute(
            "SELECT t.label, sum(t.seconds), count(DISTINCT t.video_id) FROM tags t"
            " JOIN videos v ON v.id = t.video_id WHERE v.status='done'"
            " GROUP BY t.label ORDER BY sum(t.seconds) DESC, t.label LIMIT 10")]
    return report
