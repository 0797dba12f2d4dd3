"""The results catalog: one SQLite file in OUTDIR that makes a batch resumable and reportable.

Why SQLite: it is in the standard library, a single file that travels with the outputs, and its
transactions make "the outputs are in place" and "the catalog says done" one step each. WAL mode
lets `phar batch --report` (or a test) read while a run writes; only the driver process ever
writes, under a lock file, so two runs cannot interleave.

A video's status: `pending` (planned, or left behind by a stopped run), `running` (dispatched),
`done` (its output files were in place before this row said so) or `failed` (with its one-line
error). A row still `running` when a run starts was left by a killed run and counts as not done.
Every analysis attempt is also logged in `analyses` (which run, which worker, how it ended), so
"each video was analysed exactly once" can be checked after the fact.
"""
from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from phar_cli.core.action_profile import ActionProfile
from phar_cli.core.look import Look
from phar_cli.errors import PharError

CATALOG_NAME = "phar-catalog.sqlite"
LOCK_NAME = ".phar-batch.lock"
SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS options (hash TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'stopped', 'killed')),
    executor TEXT, workers INTEGER, host TEXT, pid INTEGER,
    planned INTEGER, skipped INTEGER
);
CREATE TABLE IF NOT EXISTS videos (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    relpath TEXT NOT NULL,
    size INTEGER, mtime_ns INTEGER, head_tail TEXT,
    duration REAL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'failed')),
    error TEXT,
    analysis_hash TEXT, outputs_hash TEXT,
    models TEXT, outputs TEXT,
    windows INTEGER, analyse_seconds REAL, worker TEXT,
    started_at REAL, finished_at REAL, run_id INTEGER
);
CREATE TABLE IF NOT EXISTS segments (
    video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    label TEXT NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL,
    score REAL NOT NULL, coverage REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_video ON segments(video_id);
CREATE TABLE IF NOT EXISTS tags (
    video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    label TEXT NOT NULL, seconds REAL NOT NULL, mean_confidence REAL NOT NULL, windows INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tags_video ON tags(video_id);
CREATE TABLE IF NOT EXISTS analyses (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL, video_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('analyse', 'render')),
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'abandoned')),
    error TEXT, worker TEXT, started_at REAL NOT NULL, finished_at REAL, seconds REAL
);
CREATE INDEX IF NOT EXISTS analyses_video ON analyses(video_id);
-- what a recommender keeps of each done video (`phar similar`); added to catalogs made before
-- them (CREATE IF NOT EXISTS) and filled in from their predictions files (`batch/signals.py`)
CREATE TABLE IF NOT EXISTS profiles (
    video_id INTEGER PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
    duration REAL NOT NULL, action_seconds REAL NOT NULL, idle_share REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS profile_labels (
    video_id INTEGER NOT NULL REFERENCES profiles(video_id) ON DELETE CASCADE,
    label TEXT NOT NULL, seconds REAL NOT NULL, share REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS profile_labels_video ON profile_labels(video_id);
CREATE TABLE IF NOT EXISTS looks (
    video_id INTEGER PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
    model TEXT NOT NULL,            -- the RGB checkpoint's sha256, first 16 hex digits
    dims INTEGER NOT NULL,
    vector BLOB NOT NULL            -- float16 little-endian, L2-normalised
);
CREATE TABLE IF NOT EXISTS stash_pushes (
    video_id INTEGER PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
    push_hash TEXT NOT NULL,        -- server, settings and path maps (never the API key)
    predictions_sha TEXT NOT NULL,  -- of the predictions file pushed
    status TEXT NOT NULL, scene_id TEXT, error TEXT, pushed_at REAL NOT NULL
);
"""


class CatalogError(PharError):
    """A catalog that cannot be opened, is from another phar, or is in use by another run."""


class CatalogBusy(CatalogError):
    """Another run holds the catalog's lock."""


@dataclass
class VideoRow:
    id: int
    path: str
    relpath: str
    size: int | None
    mtime_ns: int | None
    head_tail: str | None
    duration: float | None
    status: str
    error: str | None
    analysis_hash: str | None
    outputs_hash: str | None
    outputs: list[str]


@dataclass
class SignalRows:
    """The done videos that have a profile (id, path, relpath, head/tail hash, size, duration;
    by path), each one's seconds per label, its look (model, dims, float16 bytes), and how many
    videos are not done."""
    videos: list[tuple[int, str, str, str | None, int | None, float]]
    seconds: dict[int, dict[str, float]]
    looks: dict[int, tuple[str, int, bytes]]
    not_done: int


class Catalog:
    """The driver's handle on the catalog. Open with `Catalog.open(outdir)` (writer, locked) or
    `Catalog.read(outdir)` (reader, for reports)."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_fd: int | None = None) -> None:
        self.path = path
        self.conn = conn
        self._lock_fd = lock_fd

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def open(cls, outdir: Path) -> Catalog:
        """Open (creating) OUTDIR's catalog for writing; refuses while another run holds it."""
        lock_fd = _lock(outdir / LOCK_NAME)
        try:
            conn = _connect(outdir / CATALOG_NAME)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
            version = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if version is None:
                conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            elif version[0] != SCHEMA_VERSION:
                raise CatalogError(f"{outdir / CATALOG_NAME}: catalog schema {version[0]} is not "
                                   f"this phar's ({SCHEMA_VERSION}); use another output folder")
        except BaseException:
            os.close(lock_fd)
            raise
        return cls(outdir / CATALOG_NAME, conn, lock_fd)

    @classmethod
    def read(cls, outdir: Path) -> Catalog:
        path = outdir / CATALOG_NAME
        if not path.is_file():
            raise CatalogError(f"{outdir}: no batch catalog here ({CATALOG_NAME}); "
                               "run phar batch INPUT -o OUTDIR first")
        return cls(path, _connect(path))

    def close(self) -> None:
        self.conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- runs -------------------------------------------------------------------------------

    def recover(self) -> int:
        """Undo what a killed run left: its rows 'running' become 'pending'. Returns how many."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET status='killed' WHERE status='running'")
            db.execute("UPDATE analyses SET status='abandoned', finished_at=? WHERE status='running'",
                       (time.time(),))
            return db.execute("UPDATE videos SET status='pending' WHERE status='running'").rowcount

    def start_run(self, executor: str, workers: int, planned: int, skipped: int) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO runs (started_at, status, executor, workers, host, pid, planned, skipped)"
                " VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
                (time.time(), executor, workers, socket.gethostname(), os.getpid(), planned, skipped))
            return int(cur.lastrowid)

    def run_workers(self, run_id: int, workers: int) -> None:
        """How many workers the executor really started (Ray knows only once it sees the cluster)."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET workers=? WHERE id=?", (workers, run_id))

    def finish_run(self, run_id: int, status: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET status=?, finished_at=? WHERE id=?", (status, time.time(), run_id))

    # -- videos -----------------------------------------------------------------------------

    def videos(self) -> dict[str, VideoRow]:
        rows = self.conn.execute(
            "SELECT id, path, relpath, size, mtime_ns, head_tail, duration, status, error,"
            " analysis_hash, outputs_hash, outputs FROM videos").fetchall()
        return {r[1]: VideoRow(*r[:11], orjson.loads(r[11]) if r[11] else []) for r in rows}

    def put_options(self, digest: str, options_json: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO options VALUES (?, ?)", (digest, options_json))

    def plan_videos(self, rows: list[tuple[str, str, int | None, int | None, str | None,
                                           float | None, str]]) -> list[int]:
        """Record videos as a plan sees them: (path, relpath, size, mtime_ns, head/tail hash,
        duration, status) each; returns their ids. One transaction for the whole library."""
        ids = []
        with self.transaction() as db:
            for row in rows:
                db.execute(
                    "INSERT INTO videos (path, relpath, size, mtime_ns, head_tail, duration, status)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET"
                    " relpath=excluded.relpath, size=excluded.size, mtime_ns=excluded.mtime_ns,"
                    " head_tail=excluded.head_tail, status=excluded.status,"
                    " duration=COALESCE(excluded.duration, videos.duration)", row)
                ids.append(int(db.execute("SELECT id FROM videos WHERE path=?", (row[0],)).fetchone()[0]))
        return ids

    def forget_gone(self, keep: set[str]) -> int:
        """Forget videos that were never done and whose file is gone (not in `keep`, not on
        disk): a deleted broken file should not be reported as failed forever. Done rows stay:
        their outputs are still in OUTDIR."""
        gone = [(vid,) for vid, path in self.conn.execute(
            "SELECT id, path FROM videos WHERE status != 'done'").fetchall()
            if path not in keep and not os.path.exists(path)]
        with self.transaction() as db:
            db.executemany("DELETE FROM videos WHERE id=?", gone)
        return len(gone)

    def begin(self, video_id: int, run_id: int, kind: str) -> int:
        """A video is dispatched (kind 'analyse') or re-rendered from its predictions ('render')."""
        now = time.time()
        with self.transaction() as db:
            db.execute("UPDATE videos SET status='running', error=NULL, run_id=?, started_at=?"
                       " WHERE id=?", (run_id, now, video_id))
            cur = db.execute("INSERT INTO analyses (run_id, video_id, kind, status, started_at)"
                             " VALUES (?, ?, ?, 'running', ?)", (run_id, video_id, kind, now))
            return int(cur.lastrowid)

    def done(self, video_id: int, attempt: int, *, analysis_hash: str, outputs_hash: str,
             models: dict[str, Any], outputs: list[str], duration: float, windows: int,
             seconds: float | None, worker: str | None, segments: list[dict[str, Any]],
             tags: list[dict[str, Any]], profile: ActionProfile, look: Look | None) -> None:
        """Call only after every output file is in place: this row is the promise that they are."""
        now = time.time()
        with self.transaction() as db:
            db.execute("DELETE FROM segments WHERE video_id=?", (video_id,))
            db.execute("DELETE FROM tags WHERE video_id=?", (video_id,))
            _put_signals(db, video_id, profile, look)
            db.executemany("INSERT INTO segments VALUES (?, ?, ?, ?, ?, ?)",
                           [(video_id, s["label"], s["start"], s["end"], s["score"], s["coverage"])
                            for s in segments])
            db.executemany("INSERT INTO tags VALUES (?, ?, ?, ?, ?)",
                           [(video_id, t["label"], t["seconds"], t["mean_confidence"], t["windows"])
                            for t in tags])
            set_timing = "analyse_seconds=?, worker=?," if seconds is not None else ""
            timing = (seconds, worker) if seconds is not None else ()
            db.execute(
                f"UPDATE videos SET status='done', error=NULL, analysis_hash=?, outputs_hash=?,"
                f" models=?, outputs=?, duration=?, windows=?, {set_timing} finished_at=? WHERE id=?",
                (analysis_hash, outputs_hash, _json(models), _json(outputs), duration, windows,
                 *timing, now, video_id))
            db.execute("UPDATE analyses SET status='done', worker=?, finished_at=?, seconds=?"
                       " WHERE id=?", (worker, now, seconds, attempt))

    def without_profile(self) -> list[tuple[int, str]]:
        """(id, relpath) of the done videos without a profile (analysed before profiles were
        kept)."""
        return [(int(r[0]), str(r[1])) for r in self.conn.execute(
            "SELECT v.id, v.relpath FROM videos v LEFT JOIN profiles p ON p.video_id = v.id"
            " WHERE v.status = 'done' AND p.video_id IS NULL ORDER BY v.relpath")]

    def signals(self) -> SignalRows:
        """What `phar similar` reads: the done videos' profiles and looks."""
        videos = self.conn.execute(
            "SELECT v.id, v.path, v.relpath, v.head_tail, v.size, p.duration FROM videos v"
            " JOIN profiles p ON p.video_id = v.id WHERE v.status = 'done'"
            " ORDER BY v.path").fetchall()
        seconds: dict[int, dict[str, float]] = {}
        for video_id, label, s in self.conn.execute(
                "SELECT video_id, label, seconds FROM profile_labels"):
            seconds.setdefault(video_id, {})[label] = s
        looks = {r[0]: (r[1], r[2], r[3]) for r in self.conn.execute(
            "SELECT video_id, model, dims, vector FROM looks")}
        not_done = self.conn.execute(
            "SELECT count(*) FROM videos WHERE status != 'done'").fetchone()[0]
        return SignalRows(videos, seconds, looks, not_done)

    def put_signals(self, video_id: int, profile: ActionProfile, look: Look | None) -> None:
        """A done video's profile and look filled in afterwards."""
        with self.transaction() as db:
            _put_signals(db, video_id, profile, look)

    def pushed(self, video_id: int) -> tuple[str, str, str] | None:
        """(push hash, predictions sha256, status) of the video's last push to Stash."""
        row = self.conn.execute("SELECT push_hash, predictions_sha, status FROM stash_pushes"
                                 " WHERE video_id=?", (video_id,)).fetchone()
        return tuple(row) if row else None

    def record_push(self, video_id: int, push_hash: str, predictions_sha: str, status: str,
                    scene_id: str | None, error: str | None) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO stash_pushes VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (video_id, push_hash, predictions_sha, status, scene_id, error, time.time()))

    def forget_pushes(self) -> int:
        """Forget every push to Stash (what was pushed was removed there): the next push
        writes everything again. Returns how many."""
        with self.transaction() as db:
            return db.execute("DELETE FROM stash_pushes").rowcount

    def failed(self, video_id: int, attempt: int, error: str, worker: str | None = None,
               seconds: float | None = None) -> None:
        now = time.time()
        with self.transaction() as db:
            db.execute("UPDATE videos SET status='failed', error=?, worker=?, finished_at=?"
                       " WHERE id=?", (error, worker, now, video_id))
            db.execute("UPDATE analyses SET status='failed', error=?, worker=?, finished_at=?,"
                       " seconds=? WHERE id=?", (error, worker, now, seconds, attempt))

    def abandoned(self, video_id: int, attempt: int) -> None:
        """A dispatched video whose run stopped before it came back: not done, redone next time."""
        with self.transaction() as db:
            db.execute("UPDATE videos SET status='pending' WHERE id=? AND status='running'", (video_id,))
            db.execute("UPDATE analyses SET status='abandoned', finished_at=? WHERE id=?",
                       (time.time(), attempt))


def _put_signals(db: sqlite3.Connection, video_id: int, profile: ActionProfile,
                 look: Look | None) -> None:
    db.execute("DELETE FROM profiles WHERE video_id=?", (video_id,))
    db.execute("INSERT INTO profiles VALUES (?, ?, ?, ?)",
               (video_id, profile.duration, profile.action_seconds, profile.idle_share))
    shares = profile.shares()
    db.executemany("INSERT INTO profile_labels VALUES (?, ?, ?, ?)",
                   [(video_id, label, s, shares[label]) for label, s in profile.seconds.items()])
    db.execute("DELETE FROM looks WHERE video_id=?", (video_id,))  # another analysis' look
    if look is not None:
        db.execute("INSERT INTO looks VALUES (?, ?, ?, ?)",
                   (video_id, look.model, look.dims, look.video.astype("<f2").tobytes()))


def _connect(path: Path) -> sqlite3.Connection:
    try:
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as ex:
        raise CatalogError(f"{path}: cannot open the batch catalog ({ex})") from ex
    return conn


def _lock(path: Path) -> int:
    """An exclusive lock on OUTDIR for the run's lifetime (released by the OS if it dies)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as ex:
        raise CatalogError(f"{path.parent}: cannot write there ({ex.strerror or ex})") from ex
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, one run at a time is up to the user
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as ex:
        os.close(fd)
        raise CatalogBusy(f"{path.parent}: another phar batch is writing there; "
                           "wait for it or stop it") from ex
    return fd


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
