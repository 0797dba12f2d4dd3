"""The synthetic dataset: files and annotations as prepare-data reads them, reproducible, and a
class design where each stream sees only its share of the information."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from phar_cli.core.labels import read_label_map
from phar_cli.synthetic.dataset import (
    BACKGROUND_SECONDS, CLASSES, LABEL_MAPS, class_scene, make_composed_video, make_dataset,
    random_look,
)
from phar_cli.media.audio import SAMPLE_RATE, load_waveform
from phar_cli.media.decode import FrameReader
from phar_cli.media.probe import probe
from phar_cli.synthetic.marker_poses import MarkerPoseEstimator

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_synthetic_dataset.py"
FPS = 15


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("synth") / "ds", videos_per_class=2,
                        seconds_per_video=10, seed=5, formats=("csv", "via", "via-json"))


@pytest.fixture(scope="module")
def composed(tmp_path_factory):
    """3 s of each class, in one video with one look."""
    path = tmp_path_factory.mktemp("composed") / "abgd.mp4"
    make_composed_video(path, [("alpha", 3), ("beta", 3), ("gamma", 3), ("delta", 3)],
                        size=(160, 120), fps=FPS, seed=2)
    reader = FrameReader(path)
    return path, reader.frames(list(range(len(reader)))), load_waveform(path)


def _part(frames, k, first=3, last=42):
    """Frames `first`..`last` (scene-local) of the k-th 3-second part."""
    return frames[k * 3 * FPS + first:k * 3 * FPS + last]


def _dominant_hz(wave, k):
    seg = wave[int((k * 3 + 0.2) * SAMPLE_RATE):int((k * 3 + 2.8) * SAMPLE_RATE)]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    return float(np.fft.rfftfreq(len(seg), 1 / SAMPLE_RATE)[spectrum.argmax()])


def _labels_by_video(segments):
    out: dict[str, list[str]] = {}
    for s in segments:
        out.setdefault(s.video, []).append(s.label)
    return out


def test_writes_videos_annotations_and_label_maps(dataset):
    folder = dataset.folder
    assert len(dataset.videos) == 8 and all(v.parent == folder / "videos" for v in dataset.videos)
    for stream, labels in LABEL_MAPS.items():
        assert read_label_map(dataset.label_maps[stream]) == labels
        assert dataset.label_maps[stream] == folder / "labels" / f"{stream}.txt"
    assert set(LABEL_MAPS["skeleton"]) | set(LABEL_MAPS["audio"]) <= set(LABEL_MAPS["rgb"])
    assert set(LABEL_MAPS["skeleton"]).isdisjoint(LABEL_MAPS["audio"])

    with open(dataset.annotations, newline="") as f:
        rows = list(csv.DictReader(f))
    assert dataset.annotations == folder / "annotations.csv"
    assert list(rows[0]) == ["video", "start", "end", "label"]
    assert [(r["video"], float(r["start"]), float(r["end"]), r["label"]) for r in rows] == \
        [(s.video, s.start, s.end, s.label) for s in dataset.segments]
    # two videos per class; alpha and beta videos always hold both, gamma and delta every second
    assert len(rows) == 2 * 2 * 2 + 2 * (1 + 2)
    for video, labels in _labels_by_video(dataset.segments).items():
        if {"alpha", "beta"} & set(labels):
            assert sorted(labels) == ["alpha", "beta"], video

    by_video: dict[str, list] = {}
    for s in dataset.segments:
        by_video.setdefault(s.video, []).append(s)
    assert {len(v) for v in by_video.values()} == {1, 2}  # some videos hold two classes
    for name, segs in by_video.items():
        info = probe(folder / "videos" / name)
        tail = BACKGROUND_SECONDS if int(name[len("video_"):-len(".mp4")]) % 2 else 0.0
        assert info.duration == pytest.approx(10 + tail, abs=0.1) and info.has_audio  # + nothing
        assert segs[0].start >= 1 and segs[-1].end <= info.duration - 1  # nothing at both ends
        for a, b in zip(segs, segs[1:]):
            assert b.start - a.end == pytest.approx(2)  # and between two classes
            assert a.label != b.label
    seconds = Counter()
    for s in dataset.segments:
        seconds[s.label] += s.end - s.start
    assert set(seconds) == set(CLASSES)
    assert seconds["alpha"] == seconds["beta"] and seconds["gamma"] == seconds["delta"]
    assert min(seconds.values()) >= 0.8 * max(seconds.values())  # near balanced


def test_via_csv_export_per_video(dataset):
    assert sorted(p.name for p in dataset.via_csvs) == \
        sorted(Path(v.name).stem + ".csv" for v in dataset.videos)
    for path in dataset.via_csvs:
        lines = path.read_text().splitlines()
        comments = [line for line in lines if line.startswith("#")]
        assert comments[0].startswith("# Exported using VGG Image Annotator")
        header = comments[-1].split("=", 1)[1].strip().split(",")
        assert header == ["metadata_id", "file_list", "flags", "temporal_coordinates",
                          "spatial_coordinates", "metadata"]
        rows = list(csv.reader([line for line in lines if not line.startswith("#")]))
        want = [s for s in dataset.segments if Path(s.video).stem == path.stem]
        assert len(rows) == len(want)
        for row, seg in zip(rows, want):
            assert row[0].startswith("1_") and len(row[0]) == 10
            assert json.loads(row[1]) == [seg.video]
            assert json.loads(row[3]) == [seg.start, seg.end]
            assert json.loads(row[4]) == []
            assert json.loads(row[5]) == {"1": seg.label}
    # exactly VIA's quoting of JSON cells
    assert '"{""1"":""' in dataset.via_csvs[0].read_text()


def test_via_project_json(dataset):
    project = json.loads(dataset.via_project.read_text())
    assert project["attribute"]["1"]["aname"] == "Activity"
    files = {f["fid"]: f["fname"] for f in project["file"].values()}
    got = sorted((files[project["view"][m["vid"]]["fid_list"][0]], *m["z"], m["av"]["1"])
                 for m in project["metadata"].values())
    assert got == sorted((s.video, s.start, s.end, s.label) for s in dataset.segments)


def test_same_seed_same_dataset(tmp_path):
    made = [make_dataset(tmp_path / name, videos_per_class=1, seconds_per_video=9, seed=seed,
                         formats=("csv", "via"))
            for name, seed in (("a", 3), ("b", 3), ("c", 4))]
    a, b, c = made
    assert a.annotations.read_text() == b.annotations.read_text()
    assert [p.read_text() for p in a.via_csvs] == [p.read_text() for p in b.via_csvs]
    for video_a, video_b, video_c in zip(a.videos, b.videos, c.videos):
        frames = [FrameReader(v).frames([0, 40, 100]) for v in (video_a, video_b, video_c)]
        assert np.array_equal(frames[0], frames[1])
        assert not np.array_equal(frames[0], frames[2])  # another look
        assert np.array_equal(load_waveform(video_a), load_waveform(video_b))


def test_looks_vary_between_videos():
    looks = [random_look(np.random.default_rng([0, i])) for i in range(12)]
    for attr in ("background", "shape_color", "figure_center", "figure_scale", "loudness_db"):
        assert len({getattr(look, attr) for look in looks}) > 2, attr
    for look in looks:
        assert max(look.background) < 60                      # dark
        assert len(set(look.shape_color)) == 1                # grey or white
        assert -20 <= look.loudness_db <= -12


def test_alpha_and_beta_differ_only_by_sound(composed):
    _, frames, wave = composed
    assert CLASSES["alpha"].shape_motion == CLASSES["beta"].shape_motion
    assert CLASSES["alpha"].figure == CLASSES["beta"].figure
    diff = np.abs(_part(frames, 0).astype(int) - _part(frames, 1).astype(int))
    assert diff.mean() < 1.0  # the same pictures, up to encoding noise
    alpha, beta = _dominant_hz(wave, 0), _dominant_hz(wave, 1)
    assert alpha == pytest.approx(300, rel=0.05)
    assert beta / alpha == pytest.approx(4, rel=0.02)


def test_gamma_and_delta_differ_only_by_the_figure(composed):
    _, frames, wave = composed
    assert _dominant_hz(wave, 2) == pytest.approx(_dominant_hz(wave, 3), abs=1)
    gamma, delta = _part(frames, 2), _part(frames, 3)
    poses = MarkerPoseEstimator()
    tracks = [np.stack([p.keypoints[0] for p in poses(part)]) for part in (gamma, delta)]
    # outside the figure's box the pictures are the same: the disc moves alike
    outside = np.ones(gamma.shape[:3], bool)
    for t in range(len(gamma)):
        pts = np.concatenate([tracks[0][t], tracks[1][t]])
        (x1, y1), (x2, y2) = pts.min(0) - 6, pts.max(0) + 6
        outside[t, max(0, int(y1)):int(y2) + 1, max(0, int(x1)):int(x2) + 1] = False
    diff = np.abs(gamma.astype(int) - delta.astype(int)).max(-1)
    assert np.percentile(diff[outside], 99.9) < 40
    # and the joints move differently: gamma waves its wrists, delta squats
    wrist_travel = [np.ptp(tr[:, [9, 10], 1], axis=0).min() for tr in tracks]
    hip_travel = [np.ptp(tr[:, [11, 12], 1], axis=0).min() for tr in tracks]
    assert wrist_travel[0] > 30 and hip_travel[0] < 2
    assert hip_travel[1] > 8
    # alpha and gamma: the same figure and tone, another disc motion
    alpha = _part(frames, 0)
    moved = np.abs(alpha.astype(int) - gamma.astype(int)).max(-1)[outside] > 100
    assert moved.mean() > 0.02


def test_nothing_is_silent_and_figureless(tmp_path):
    look = random_look(np.random.default_rng(0))
    scene = class_scene(None, 2, look)
    assert scene.figure is None and scene.tone_hz is None and scene.noise_db is None
    path = make_composed_video(tmp_path / "n.mp4", [("delta", 2), (None, 2)], seed=1)
    reader = FrameReader(path)
    assert len(reader) == 4 * FPS
    poses = MarkerPoseEstimator()(reader.frames([5, 25, 45]))
    assert [len(p.boxes) for p in poses] == [1, 1, 0]
    wave = load_waveform(path)
    assert np.abs(wave[int(2.2 * SAMPLE_RATE):int(3.8 * SAMPLE_RATE)]).max() < 1e-3


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="format"):
        make_dataset(tmp_path, formats=("xml",))
    with pytest.raises(ValueError, match="unknown class"):
        make_composed_video(tmp_path / "x.mp4", [("omega", 2)])
    with pytest.raises(ValueError, match="seconds_per_video"):
        make_dataset(tmp_path, seconds_per_video=5)


def test_script(tmp_path):
    out = tmp_path / "ds"
    proc = subprocess.run([sys.executable, str(SCRIPT), str(out), "--videos-per-class", "1",
                           "--seconds", "9", "--format", "csv", "--format", "via"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "4 videos" in proc.stdout
    assert len(list((out / "videos").glob("*.mp4"))) == 4
    assert len(list((out / "via").glob("*.csv"))) == 4 and (out / "annotations.csv").exists()
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "c.mp4"),
                           "--compose", "alpha:2,-:1,omega:2"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1 and "omega" in proc.stderr
