"""Stopping and resuming: a real SIGTERM (finish what is running, dispatch nothing more) and a
real SIGKILL of the whole process group mid-video, then reruns. Every video ends up analysed
exactly once, the catalog stays consistent, no half-written file survives or counts; a rerun
redoes only what changed."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import orjson
import pytest

from phar_cli.core.predictions import load_predictions
from phar_cli.synthetic.video import Scene, make_video
from tests.batch.conftest import (SIZE, analyses_done, batch_process, count, freeze_when, make_library,
                                  phar_process, query, statuses)
from tests.conftest import run_phar

# Eight videos: analysing a 3 s video takes a fraction of a second once the model is loaded, and
# each run needs some left to stop or kill in the middle of.
LIBRARY = {"a.mp4": "a.mp4", "sub/b.mp4": "sub/b.mp4", "sub/deeper/c.mkv": "sub/deeper/c.mkv",
           "d.mov": "d.mov", "sub/e.mp4": "sub/e.mp4", "more/a2.mp4": "a.mp4",
           "more/b2.mp4": "sub/b.mp4", "more/e2.mp4": "sub/e.mp4"}
NAMES = list(LIBRARY)


@pytest.fixture(scope="module")
def library(tmp_path_factory, video_stock) -> tuple[Path, Path]:
    """The library and a CSV manifest of it (relative paths: read against the manifest's folder)."""
    root = make_library(tmp_path_factory.mktemp("library"), video_stock, LIBRARY)
    manifest = root / "videos.csv"
    manifest.write_text("title,path\n" + "".join(f"v{i},{name}\n" for i, name in enumerate(NAMES)))
    return root, manifest


@pytest.fixture(scope="module")
def stopped_killed_finished(library, rgb_args, tmp_path_factory):
    """Run 1: SIGTERM once a video is done and the next is in flight. Run 2: SIGKILL to its
    process group once one more is done and the next is mid-analysis. Run 3: to the end. The
    catalog is looked at after each."""
    root, manifest = library
    out = tmp_path_factory.mktemp("out")
    args = list(rgb_args)
    seen = {}

    with batch_process(manifest, "-o", out, "--workers", 1, *args) as first:
        frozen = freeze_when(out, first, lambda seen: count(seen, "done") >= 1
                             and count(seen, "running") == 1)
        first.send_signal(signal.SIGTERM)  # to the driver alone, as `kill PID` would
        os.killpg(first.pid, signal.SIGCONT)
        _, err = first.communicate(timeout=120)
    seen["first"] = (first.returncode, err, frozen, statuses(out))

    done_before = count(statuses(out), "done")
    with batch_process(manifest, "-o", out, "--workers", 1, *args) as second:
        frozen = freeze_when(out, second, lambda seen: count(seen, "done") > done_before
                             and count(seen, "running") == 1)
        os.killpg(second.pid, signal.SIGKILL)  # the driver and its worker: a crash, no cleanup
        second.communicate(timeout=60)
    seen["second"] = (second.returncode, frozen, statuses(out),
                      query(out, "SELECT status FROM runs ORDER BY id"))

    third = phar_process("batch", manifest, "-o", out, "--workers", 1, *args)
    seen["third"] = (third.returncode, third.stdout, third.stderr)
    return root, manifest, out, args, seen


def test_sigterm_finishes_running_videos_and_dispatches_no_more(stopped_killed_finished):
    *_, seen = stopped_killed_finished
    code, err, frozen, after = seen["first"]
    assert code == 128 + signal.SIGTERM, err
    assert "Stopping" in err and "Traceback" not in err
    # what was running when the signal came finished and counts; nothing else was started
    assert count(after, "done") == count(frozen, "done") + count(frozen, "running")
    assert count(after, "pending") == len(NAMES) - count(after, "done") > 0
    assert set(after.values()) == {"done", "pending"}  # nothing left 'running' by a clean stop


def test_sigkill_leaves_the_video_in_flight_running_and_not_done(stopped_killed_finished):
    *_, seen = stopped_killed_finished
    code, frozen, after, runs = seen["second"]
    assert code == -signal.SIGKILL
    assert after == frozen and count(after, "running") == 1  # the one it was analysing
    assert [r for (r,) in runs] == ["stopped", "running"]


def test_rerun_after_stop_and_kill_does_every_video_exactly_once(stopped_killed_finished):
    root, manifest, out, _, seen = stopped_killed_finished
    code, stdout, err = seen["third"]
    assert code == 0, err
    assert "left running by an earlier, killed run" in stdout
    assert statuses(out) == {str(root / n): "done" for n in NAMES}
    assert analyses_done(out) == {str(root / n): 1 for n in NAMES}
    assert [r for (r,) in query(out, "SELECT status FROM runs ORDER BY id")] == ["stopped", "killed", "finished"]
    # the only analysis not done is the one SIGKILL cut off: abandoned, never counted
    assert query(out, "SELECT status, count(*) FROM analyses WHERE status != 'done' GROUP BY status") \
        == [("abandoned", 1)]
    # every output is whole, and no temp file of a cut-off write is left behind
    assert not list(out.rglob(".*.tmp"))
    for name in NAMES:
        base = out / Path(name).with_suffix("")
        analysis = load_predictions(base.with_name(base.name + ".json"))
        assert analysis.video.path == str(root / name)


def test_rerun_redoes_a_changed_file_and_rewrites_outputs_for_new_options(stopped_killed_finished, capsys):
    """Runs last in this module: it changes the library."""
    root, manifest, out, args, _ = stopped_killed_finished
    make_video(root / "sub/b.mp4", size=SIZE, segments=[Scene(4, "orange", "circle", 550.0)])  # new content
    a = root / "a.mp4"
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 10**9))  # touched, same bytes
    code, stdout, err = run_phar(["batch", manifest, "-o", out, "--workers", "1", "-f", "vtt", *args],
                                 capsys)
    assert code == 0, err
    assert "1 analysed" in stdout and f"{len(NAMES) - 1} rewritten" in stdout
    counts = analyses_done(out)
    assert counts.pop(str(root / "sub/b.mp4")) == 2
    assert set(counts.values()) == {1}  # the touched file was hashed, found the same: not redone
    assert orjson.loads((out / "sub/b.json").read_bytes())["video"]["duration"] == pytest.approx(4.0, abs=0.05)
    assert all((out / Path(n).with_suffix(".vtt")).is_file() for n in NAMES)
    code, stdout, err = run_phar(["-q", "batch", manifest, "-o", out, "--workers", "1", "-f", "vtt", *args],
                                 capsys)
    assert code == 0 and f"{len(NAMES)} skipped" in stdout
