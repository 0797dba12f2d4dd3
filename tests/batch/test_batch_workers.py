"""A worker process that dies mid-video (a real SIGKILL to it, as the out-of-memory killer would
send): that video is failed with a clear error, a new pool takes over, the rest finish."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.batch.conftest import batch_process, count, freeze_when, make_library, query, statuses


def pool_workers(driver: int) -> list[int]:
    """The driver's multiprocessing workers (not its resource tracker), from /proc."""
    workers = []
    for task in Path(f"/proc/{driver}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    workers.append(int(child))
            except OSError:  # gone meanwhile
                pass
    return workers


@pytest.mark.skipif(not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
                    reason="needs Linux /proc/PID/task/TID/children to find the worker process")
def test_a_worker_killed_mid_video_fails_that_video_and_the_batch_goes_on(
        tmp_path, video_stock, rgb_args):
    root = make_library(tmp_path / "lib", video_stock, ["a.mp4", "sub/b.mp4", "d.mov"])
    out = tmp_path / "out"
    with batch_process(root, "-o", out, "--workers", 1, *rgb_args) as proc:
        # a video in flight, and the worker process it went to started (the pool starts it on demand)
        frozen = freeze_when(out, proc, lambda seen: count(seen, "running") == 1
                             and len(pool_workers(proc.pid)) == 1)
        [victim] = [path for path, status in frozen.items() if status == "running"]
        [worker] = pool_workers(proc.pid)
        os.kill(worker, signal.SIGKILL)
        os.killpg(proc.pid, signal.SIGCONT)
        stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 1, stderr
    after = statuses(out)
    assert after.pop(victim) == "failed" and set(after.values()) == {"done"}
    [(error,)] = query(out, "SELECT error FROM videos WHERE path=?", victim)
    assert "worker process died" in error and "died" in stdout
