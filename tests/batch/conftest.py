"""A small synthetic library for the batch tests: 3 s, 160x120 videos of abstract shapes and
tones in a nested tree, and a broken one; the RGB stream only (small random-weight TimeSformer),
so a whole batch takes seconds on two cores."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from phar_cli.batch.catalog import CATALOG_NAME
from phar_cli.synthetic.video import Scene, make_video
from tests.conftest import SMALL_CONFIGS

SIZE = (160, 120)
SCENES = {
    "a.mp4": Scene(3, "red", "circle", 440.0, -20),
    "sub/b.mp4": Scene(3, "green", "left-right", 880.0, -20),
    "sub/deeper/c.mkv": Scene(3, "blue", "up-down", None),
    "d.mov": Scene(3, "yellow", "still", 660.0, -30),
    "sub/e.mp4": Scene(3, "purple", "circle", 330.0, -25),
}


@pytest.fixture(scope="session")
def video_stock(tmp_path_factory) -> dict[str, Path]:
    """Each synthetic video made once per session; libraries copy them."""
    folder = tmp_path_factory.mktemp("stock")
    stock = {rel: make_video(folder / rel.replace("/", "_"), size=SIZE, segments=[scene])
             for rel, scene in SCENES.items()}
    whole = stock["a.mp4"].read_bytes()
    broken = folder / "broken.mp4"
    broken.write_bytes(whole[: len(whole) // 3])  # cut off mid-file: not decodable
    stock["broken.mp4"] = broken
    return stock


def make_library(root: Path, stock: dict[str, Path], names: list[str] | dict[str, str]) -> Path:
    """Copy stock videos into `root`: names, or {name in the library: stock name}."""
    pairs = names.items() if isinstance(names, dict) else ((n, n) for n in names)
    for rel, source in pairs:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(stock[source], target)
    return root


@pytest.fixture(scope="session")
def rgb_args(small_bundle, tmp_path_factory) -> list[str]:
    """The RGB stream only, with the small bundle's weights and a copy of the small config taken
    at the start of the session: a batch redoes videos whose config changed, and the repo's
    configs may be edited while a long test session runs."""
    configs = tmp_path_factory.mktemp("configs") / "rgb"
    shutil.copytree(SMALL_CONFIGS["rgb"].parent, configs)
    args = ["--streams", "rgb", *small_bundle.args("rgb_gated")]
    args[args.index("--rgb-config") + 1] = str(configs / SMALL_CONFIGS["rgb"].name)
    return args


def phar_process(*argv: object, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "phar_cli.cli", *map(str, argv)],
                          capture_output=True, text=True, timeout=timeout)


def query(outdir: Path, sql: str, *params: object) -> list[tuple]:
    """Read the catalog as any SQLite client would (while a run writes, too: WAL)."""
    conn = sqlite3.connect(outdir / CATALOG_NAME, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def statuses(outdir: Path) -> dict[str, str]:
    return dict(query(outdir, "SELECT path, status FROM videos"))


def analyses_done(outdir: Path) -> dict[str, int]:
    """How many times each video was analysed to the end, over all runs."""
    return dict(query(outdir, "SELECT v.path, count(a.id) FROM videos v LEFT JOIN analyses a"
                              " ON a.video_id = v.id AND a.kind = 'analyse' AND a.status = 'done'"
                              " GROUP BY v.path"))


@contextlib.contextmanager
def batch_process(*argv: object) -> Iterator[subprocess.Popen]:
    """`python -m phar_cli.cli batch ARGV` in its own process group, so a test can signal all of
    it; whatever happens in the test, nothing of it is left running (or frozen) afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", "phar_cli.cli", "batch", *map(str, argv)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()


def freeze_when(out: Path, proc: subprocess.Popen, ready, timeout: float = 180) -> dict[str, str]:
    """Poll the catalog; once `ready(statuses)` holds with the batch frozen (SIGSTOP to its process
    group), return the statuses and leave it frozen, so what the test does next acts on exactly
    the state it saw. Between two looks the batch runs on (SIGCONT)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if (out / CATALOG_NAME).exists():
            os.killpg(proc.pid, signal.SIGSTOP)
            try:
                seen = statuses(out)
            except sqlite3.Error:  # the catalog is being created
                seen = {}
            if seen and ready(seen):
                return seen
            os.killpg(proc.pid, signal.SIGCONT)
        time.sleep(0.02)
    pytest.fail(f"the batch did not reach the state looked for within {timeout} s")


def count(seen: dict[str, str], status: str) -> int:
    return list(seen.values()).count(status)
