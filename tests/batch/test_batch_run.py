"""`phar batch` end to end on a small library: real decoding, real (small, random-weight) models,
a real process pool and a real local Ray. What it writes, what the catalog holds, the report,
and that both executors give the same outputs."""
from __future__ import annotations

import orjson
import pytest

from phar_cli.batch.catalog import CATALOG_NAME
from phar_cli.core.predictions import SCHEMA
from tests.batch.conftest import analyses_done, make_library, phar_process, query, statuses
from tests.conftest import run_phar

GOOD = ["a.mp4", "sub/b.mp4", "sub/deeper/c.mkv"]
OPTIONS = ["-f", "srt,csv", "--tags", "--filter", "--threshold", "0.1"]


@pytest.fixture(scope="module")
def library(tmp_path_factory, video_stock):
    return make_library(tmp_path_factory.mktemp("library"), video_stock, [*GOOD, "broken.mp4"])


@pytest.fixture(scope="module")
def local_run(library, rgb_args, tmp_path_factory):
    out = tmp_path_factory.mktemp("out-local")
    proc = phar_process("batch", library, "-o", out, "--workers", "2", *OPTIONS, *rgb_args)
    return out, proc


def output_files(out) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not p.name.startswith((".", "phar-catalog"))}


def test_each_video_gets_what_timestamps_writes_mirroring_the_tree(local_run, library):
    out, proc = local_run
    assert proc.returncode == 1, proc.stderr  # the broken video failed; the rest finished
    assert "Traceback" not in proc.stderr
    expected = {f"{base}.{ext}" for base in ("a", "sub/b", "sub/deeper/c")
                for ext in ("json", "srt", "csv", "tags.json", "cuts.json")}
    assert set(output_files(out)) == expected
    data = orjson.loads((out / "sub/b.json").read_bytes())
    assert data["schema"] == SCHEMA and data["video"]["path"] == str(library / "sub/b.mp4")
    assert [(w["start"], w["end"]) for w in data["windows"]] == [(0.0, pytest.approx(3.0, abs=0.05))]
    assert data["segments"] and data["config"]["streams"] == ["rgb"]
    tags = orjson.loads((out / "sub/b.tags.json").read_bytes())
    assert tags["tags"][0]["label"] == data["segments"][0]["label"]
    cuts = orjson.loads((out / "sub/b.cuts.json").read_bytes())  # as `phar filter --segments-out`
    assert cuts["options"]["threshold"] == 0.1
    assert [(c["start"], c["end"], c["labels"]) for c in cuts["segments"]] == [
        (0.0, pytest.approx(3.0, abs=0.05), ["doggy"])]
    assert (out / "a.srt").read_text().startswith("1\n")


def test_a_broken_video_is_recorded_as_failed_with_its_error(local_run, library):
    out, proc = local_run
    broken = str(library / "broken.mp4")
    assert statuses(out) == {**{str(library / g): "done" for g in GOOD}, broken: "failed"}
    [(error,)] = query(out, "SELECT error FROM videos WHERE path=?", broken)
    assert error.startswith(broken) and "truncated" in error
    assert "broken.mp4" in proc.stdout and "1 failed" in proc.stdout  # listed at the end
    assert "3 analysed" in proc.stdout


def test_catalog_records_file_options_models_timings_segments_and_tags(local_run, library):
    out, _ = local_run
    row = query(out, "SELECT v.size, v.mtime_ns, v.head_tail, v.duration, v.windows,"
                     " v.analyse_seconds, v.worker, v.started_at, v.finished_at, v.models, o.json"
                     " FROM videos v JOIN options o ON o.hash = v.analysis_hash WHERE v.path=?",
                str(library / "a.mp4"))[0]
    size, mtime_ns, head_tail, duration, windows, seconds, worker, started, finished, models, opts = row
    stat = (library / "a.mp4").stat()
    assert (size, mtime_ns) == (stat.st_size, stat.st_mtime_ns) and len(head_tail) == 64
    assert duration == pytest.approx(3.0, abs=0.05) and windows == 1
    assert seconds > 0 and ":" in worker and finished >= started
    assert orjson.loads(models)["rgb"]["checkpoint"].endswith("rgb_gated.pth")
    assert orjson.loads(opts)["streams"] == ["rgb"]
    segments = query(out, "SELECT label, start, \"end\" FROM segments s JOIN videos v ON v.id=s.video_id"
                          " WHERE v.path=?", str(library / "a.mp4"))
    data = orjson.loads((out / "a.json").read_bytes())
    assert [(s["label"], s["start"], s["end"]) for s in data["segments"]] == segments
    assert query(out, "SELECT count(*) FROM tags")[0][0] >= 3
    assert set(analyses_done(out).values()) == {0, 1}


def test_catalog_keeps_each_done_videos_profile_and_look(local_run, library, rgb_args, tmp_path):
    import shutil
    import sqlite3

    import numpy as np

    from phar_cli.core.look import Look

    out, _ = local_run
    data = orjson.loads((out / "a.json").read_bytes())
    [(duration, action, idle)] = query(
        out, "SELECT p.duration, p.action_seconds, p.idle_share FROM profiles p"
             " JOIN videos v ON v.id = p.video_id WHERE v.path=?", str(library / "a.mp4"))
    assert (duration, action, idle) == pytest.approx(
        (data["profile"]["duration"], data["profile"]["action_seconds"],
         data["profile"]["idle_share"]), abs=1e-6)
    labels = query(out, "SELECT l.label, l.seconds, l.share FROM profile_labels l JOIN videos v"
                        " ON v.id = l.video_id WHERE v.path=?", str(library / "a.mp4"))
    assert labels == [(x["label"], pytest.approx(x["seconds"]), pytest.approx(x["share"]))
                      for x in data["profile"]["labels"]]
    [(model, dims, blob)] = query(out, "SELECT l.model, l.dims, l.vector FROM looks l JOIN videos"
                                       " v ON v.id = l.video_id WHERE v.path=?",
                                  str(library / "a.mp4"))
    look = Look.from_dict(data["look"])
    assert (model, dims) == (look.model, 64)
    assert np.array_equal(np.frombuffer(blob, "<f2"), look.video)
    assert query(out, "SELECT count(*) FROM looks")[0][0] == len(GOOD)  # not the failed one
    # a catalog from before profiles and looks: a rerun fills them in from the predictions files
    old = tmp_path / "old"
    shutil.copytree(out, old)
    with sqlite3.connect(old / CATALOG_NAME) as db:
        db.execute("DROP TABLE profile_labels")
        db.execute("DROP TABLE profiles")
        db.execute("DROP TABLE looks")
    proc = phar_process("batch", library, "-o", old, *OPTIONS, *rgb_args)
    assert "1 failed" in proc.stdout and "3 analysed" not in proc.stdout  # done ones skipped
    assert "Traceback" not in proc.stderr
    assert query(old, "SELECT count(*) FROM profiles")[0][0] == len(GOOD)
    assert query(old, "SELECT model FROM looks") == [(look.model,)] * len(GOOD)


def test_predictions_are_those_of_phar_timestamps(local_run, library, rgb_args, tmp_path, capsys):
    out, _ = local_run
    single = tmp_path / "a.json"
    code, _, err = run_phar(["-q", "timestamps", library / "a.mp4", "-o", single, *rgb_args], capsys)
    assert code == 0, err
    mine, theirs = orjson.loads((out / "a.json").read_bytes()), orjson.loads(single.read_bytes())
    assert mine.keys() == theirs.keys()
    assert mine["video"] == theirs["video"] and mine["labels"] == theirs["labels"]
    assert mine["config"] == theirs["config"] and mine["segments"][0]["label"] == theirs["segments"][0]["label"]
    for w, v in zip(mine["windows"], theirs["windows"], strict=True):
        assert [s["label"] for s in w["scores"]][:3] == [s["label"] for s in v["scores"]][:3]
        assert {s["label"]: s["score"] for s in w["scores"]} == pytest.approx(
            {s["label"]: s["score"] for s in v["scores"]}, abs=1e-5)


def test_report_summarises_from_the_catalog_alone(local_run, capsys):
    out, _ = local_run
    code, stdout, err = run_phar(["batch", "--report", "-o", out], capsys)
    assert code == 0, err
    text = " ".join(stdout.split())
    assert "videos │ 4" in text and "done │ 3" in text and "failed │ 1" in text
    assert "0.2 min done of 0.2 min catalogued" in text  # 9 s of video; the broken one has none
    assert "x real time" in text and "videos/h" in text
    assert "broken.mp4" in text and "truncated" in text


def test_ray_and_local_executors_write_identical_outputs(local_run, library, rgb_args, tmp_path):
    pytest.importorskip("ray", reason="Ray is optional: pip install 'phar[ray]' (scripts/install.sh installs it)")
    local_out, _ = local_run
    ray_out = tmp_path / "out-ray"
    proc = phar_process("batch", library, "-o", ray_out, "--executor", "ray", *OPTIONS, *rgb_args)
    assert proc.returncode == 1, proc.stderr  # the same broken video
    assert "local Ray, 2 actors" in proc.stderr
    assert output_files(ray_out) == output_files(local_out)
    assert statuses(ray_out) == statuses(local_out)
    for out in (local_out, ray_out):  # and the catalog is the driver's alone: one per OUTDIR
        assert (out / CATALOG_NAME).is_file()
    workers = {w for (w,) in query(ray_out, "SELECT worker FROM videos WHERE status='done'")}
    assert 1 <= len(workers) <= 2
