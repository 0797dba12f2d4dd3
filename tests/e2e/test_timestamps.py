"""`phar timestamps` end to end: real decoding, real (small, random-weight) models of the seed's
architectures, the seed's gates, fusion and every export format."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import orjson
import pytest

from phar_cli.core.fusion import DEFAULT_WEIGHTS
from phar_cli.core.gates import DEFAULT_LOUDNESS_THR
from phar_cli.core.predictions import SCHEMA, load_predictions
from phar_cli.core.timeline import timeline_of

from tests.conftest import run_phar


def phar_process(*argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "phar_cli.cli", *map(str, argv)],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def full_run(small_bundle, videos, tmp_path_factory):
    """All three streams on the 30 s video; every keypoint counts as good (--pose-score-thr 0)."""
    out = tmp_path_factory.mktemp("full") / "preds.json"
    proc = phar_process("timestamps", videos["loud_then_silent"], "-o", out, "--pose-score-thr", "0",
                        *small_bundle.args("rgb_gated"))
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_predictions_file_is_schema_valid_and_windows_tile_the_video(full_run):
    out, proc = full_run
    assert "Traceback" not in proc.stderr
    data = orjson.loads(out.read_bytes())
    assert data["schema"] == SCHEMA
    assert set(data) >= {"schema", "video", "config", "labels", "windows", "segments"}
    assert data["video"]["duration"] == pytest.approx(30.0, abs=0.05)
    assert (data["video"]["width"], data["video"]["height"]) == (160, 120)
    assert len(data["labels"]) == 17
    windows = data["windows"]
    # 4 full 7 s windows and the 2 s remainder (kept: >= 2 s)
    assert [(w["start"], w["end"]) for w in windows] == [
        (0.0, 7.0), (7.0, 14.0), (14.0, 21.0), (21.0, 28.0), (28.0, pytest.approx(30.0, abs=0.05))]
    for w in windows:
        assert [s["label"] for s in w["scores"]].count(w["scores"][0]["label"]) == 1
        assert sorted(s["label"] for s in w["scores"]) == sorted(data["labels"])
        values = [s["score"] for s in w["scores"]]
        assert values == sorted(values, reverse=True)
        assert all(0.0 <= v <= 1.0 for v in values)
        assert set(w["streams"]) == set(w["used"])


def test_each_gate_runs_or_skips_its_stream_per_window(full_run):
    analysis = load_predictions(full_run[0])
    used = [w.used for w in analysis.windows]
    # RGB top-1 is 'doggy' (a skeleton and an audio label) everywhere; poses pass at threshold 0;
    # audio runs only where the video is loud (the first 14 s).
    assert used == [["rgb", "skeleton", "audio"]] * 2 + [["rgb", "skeleton"]] * 3
    for w in analysis.windows[:2]:
        assert w.measures["loudness"] > -20
    for w in analysis.windows[2:]:
        quiet = w.measures["loudness"]  # None: -inf LUFS (digital silence)
        assert quiet is None or quiet < DEFAULT_LOUDNESS_THR
    assert all(w.measures["pose_quality"] >= 0.35 and w.measures["people"] >= 1
               for w in analysis.windows)


def test_fused_scores_are_the_weighted_mean_over_the_streams_that_know_each_label(full_run):
    analysis = load_predictions(full_run[0])
    assert analysis.config["fusion_rule"] == "known"
    for w in analysis.windows:
        streams = {s: dict(scores) for s, scores in w.streams.items()}
        for label, fused in w.scores:
            knowing = [s for s in w.used if label in streams[s]]
            expected = (sum(DEFAULT_WEIGHTS[s] * streams[s][label] for s in knowing)
                        / sum(DEFAULT_WEIGHTS[s] for s in knowing))
            assert fused == pytest.approx(expected, abs=2e-6)


def test_seed_rule_fuses_as_the_seed_did(small_bundle, videos, tmp_path, capsys):
    out = tmp_path / "seed.json"
    code, _, err = run_phar(["-q", "timestamps", videos["loud_then_silent"], "-o", out,
                             "--pose-score-thr", "0", "--fusion-rule", "seed", "--no-refine",
                             *small_bundle.args("rgb_gated")], capsys)
    assert code == 0, err
    analysis = load_predictions(out)
    assert analysis.config["fusion_rule"] == "seed"
    for w in analysis.windows:
        total = sum(DEFAULT_WEIGHTS[s] for s in w.used)
        streams = {s: dict(scores) for s, scores in w.streams.items()}
        for label, fused in w.scores:
            expected = sum(DEFAULT_WEIGHTS[s] * streams[s].get(label, 0.0) for s in w.used) / total
            assert fused == pytest.approx(expected, abs=2e-6)


def test_pose_quality_gate_skips_the_skeleton_stream(small_bundle, videos, tmp_path, capsys):
    out = tmp_path / "p.json"
    code, _, err = run_phar(["-q", "timestamps", videos["loud9"], "-o", out, "--streams",
                             "rgb,skeleton", "--pose-score-thr", "1.0", *small_bundle.args()], capsys)
    assert code == 0, err
    windows = load_predictions(out).windows
    assert [w.used for w in windows] == [["rgb"], ["rgb"]]
    assert all(w.measures["pose_quality"] < 0.35 for w in windows)


def test_label_gates_skip_pose_work_and_audio_when_rgb_points_elsewhere(small_bundle, videos,
                                                                        tmp_path, capsys):
    out = tmp_path / "p.json"
    code, _, err = run_phar(["-q", "timestamps", videos["loud9"], "-o", out, "--pose-score-thr", "0",
                             *small_bundle.args("rgb_plain")], capsys)
    assert code == 0, err
    for w in load_predictions(out).windows:
        assert w.used == ["rgb"]
        assert [label for label, _ in w.scores[:3]] == ["fondling", "handjob", "fingering"]
        assert "pose_quality" not in w.measures  # decided before any detection or pose work
        assert "loudness" not in w.measures


def test_video_without_audio_skips_the_audio_stream(small_bundle, videos, tmp_path, capsys):
    out = tmp_path / "p.json"
    code, _, err = run_phar(["-q", "timestamps", videos["no_audio"], "-o", out, "--streams",
                             "rgb,audio", *small_bundle.args()], capsys)
    assert code == 0, err
    assert [w.used for w in load_predictions(out).windows] == [["rgb"], ["rgb"]]


@pytest.mark.parametrize("fmt,ext", [("csv", "csv"), ("srt", "srt"), ("vtt", "vtt"),
                                     ("ffmetadata", "txt"), ("edl", "edl")])
def test_every_format_from_a_saved_analysis(full_run, tmp_path, capsys, fmt, ext, videos):
    out = tmp_path / f"t.{ext}"
    code, stdout, err = run_phar(["-q", "timestamps", videos["loud_then_silent"], "--from-json",
                                  full_run[0], "--format", fmt, "-o", out], capsys)
    assert code == 0, err
    text = out.read_text()
    segments = orjson.loads(full_run[0].read_bytes())["segments"]
    assert segments and all(s["label"] in text for s in segments)


def test_tags_table_and_json(full_run, capsys):
    code, stdout, _ = run_phar(["tags", full_run[0], "--topk", "2", "--json"], capsys)
    assert code == 0
    tags = orjson.loads(stdout)["tags"]
    analysis = load_predictions(full_run[0])
    top = {}
    for w in timeline_of(analysis):  # the refined parts: what the segments are made of
        top[w.top[0]] = top.get(w.top[0], 0.0) + w.span.duration
    expected = sorted(top.items(), key=lambda kv: -kv[1])[:2]
    assert [(t["label"], t["seconds"]) for t in tags] == [
        (label, pytest.approx(sec, abs=1e-3)) for label, sec in expected]
    code, stdout, _ = run_phar(["tags", full_run[0]], capsys)
    assert code == 0 and expected[0][0] in stdout


def test_tags_reads_the_seed_json(tmp_path, capsys):
    seed = tmp_path / "seed.json"
    seed.write_text('[{"0.7": "doggy", "0.2": "cowgirl"}, {"0.6": "doggy", "0.3": "scoop_up"},'
                    ' {"0.5": "scoop-up", "0.4": "doggy"}]')
    code, stdout, _ = run_phar(["tags", seed, "--json", "--topk", "2"], capsys)
    assert code == 0
    tags = orjson.loads(stdout)["tags"]
    assert [(t["label"], t["seconds"]) for t in tags] == [("doggy", 14.0), ("scoop-up", 7.0)]


def test_the_analysis_keeps_the_rgb_models_look_and_the_segments_profile(full_run, small_bundle):
    from phar_cli.core.look import Look
    from phar_cli.models.pins import sha256_file

    data = orjson.loads(full_run[0].read_bytes())
    look = Look.from_dict(data["look"])
    assert look.model == sha256_file(small_bundle.folder / "rgb_gated.pth")[:16]
    assert look.dims == 64 and look.windows == tuple(range(len(data["windows"])))
    assert look.vectors.dtype == np.float16 and look.vectors.shape == (5, 64)
    assert np.linalg.norm(look.video.astype(np.float32)) == pytest.approx(1.0, abs=1e-3)
    assert look.over == "action"
    mean = look.vectors.astype(np.float32).mean(0)  # every window is action (no background)
    assert np.allclose(look.video, mean / np.linalg.norm(mean), atol=2e-3)
    assert load_predictions(full_run[0]).look.model == look.model
    seconds = {}
    for s in data["segments"]:
        seconds[s["label"]] = seconds.get(s["label"], 0) + s["end"] - s["start"]
    profile = {x["label"]: x["seconds"] for x in data["profile"]["labels"]}
    assert profile == pytest.approx(seconds) and data["profile"]["idle_share"] == pytest.approx(0)


def test_without_the_rgb_stream_there_is_no_look(small_bundle, videos, tmp_path, capsys):
    out = tmp_path / "audio.json"
    code, _, err = run_phar(["-q", "timestamps", videos["loud9"], "-o", out, "--streams", "audio",
                             *small_bundle.args()], capsys)
    assert code == 0, err
    data = orjson.loads(out.read_bytes())
    assert "look" not in data and data["profile"]["labels"]


def test_a_window_shorter_than_an_audio_clip_still_hears_its_sound(small_bundle, videos, tmp_path,
                                                                    capsys):
    """The audio model's clip is 64 video frames (2.1 s at 30 fps): a shorter window (a short
    part, a low frame rate) used to select no sound at all. A steady tone sounds the same in a
    window of 2 s as in one of 4 s."""
    scores = {}
    for seconds in (2, 4):
        out = tmp_path / f"audio{seconds}.json"
        code, _, err = run_phar(["-q", "timestamps", videos["loud9"], "-o", out, "--streams",
                                 "audio", "--subclip-len", str(seconds), "--no-refine",
                                 *small_bundle.args()], capsys)
        assert code == 0, err
        window = orjson.loads(out.read_bytes())["windows"][1]  # 2-4 s, 4-8 s: the tone all through
        scores[seconds] = {s["label"]: s["score"] for s in window["streams"]["audio"]}
    assert scores[2].keys() == scores[4].keys()
    assert max(abs(scores[2][k] - scores[4][k]) for k in scores[2]) < 0.02, scores
