"""A synthetic multimodal action dataset: abstract shapes, a stick figure and tones, annotated.

Why: the offline main job and the training tests need annotated videos whose classes each
stream can (or cannot) tell apart by design, made in seconds on a CPU with nothing downloaded.

The classes. Every video frame shows a grey/white disc moving over a dark background (the
existing `phar_cli.synthetic.video` scenes) and a stick figure whose joints are discs of known
colours (`phar_cli.synthetic.figure`, read back by the "markers" pose backend); the sound is a tone.
A class is one (disc motion, figure motion, tone):

    class   disc motion   figure   tone      what tells it apart
    alpha   left-right    wave     300 Hz    from beta: only the tone
    beta    left-right    wave     1200 Hz   from alpha: only the tone
    gamma   circle        wave     300 Hz    from delta: only the figure's motion
    delta   circle        squat    300 Hz    from gamma: only the figure's motion

What each stream sees, and the best it can do alone (balanced classes):
- rgb (all four labels) sees the disc and the figure: it can separate {alpha|beta}, gamma and
  delta, never alpha from beta. Best top-1 over the four classes 0.75 (alpha/beta a coin
  flip), best top-2 1.0.
- skeleton (label map gamma, delta) sees only the joints: wave vs squat. 1.0 on its own two
  classes; over all four at most 0.5 (alpha and beta wave too, and it can only say gamma).
- audio (label map alpha, beta) hears only the tone: 300 vs 1200 Hz. 1.0 on its own two
  classes; over all four at most 0.5 (gamma and delta sound like alpha).
- fused: rgb narrows to {alpha, beta} / gamma / delta, audio splits alpha from beta, skeleton
  confirms gamma vs delta: 1.0 is reachable, above every stream alone.

Nuisance factors, drawn per video from a seeded generator so a model must learn the pattern and
not the video: background (from a dark set), disc grey level, figure position, size and clock
phase, disc clock phase, tone pitch (±3%), tone level (-20..-12 dBFS) and a faint noise floor
(-60..-50 dBFS). Within one video they stay fixed, as a camera and a room would.

Layout of a dataset video (`seconds_per_video` S, default 21): 1 s of nothing (background and a
still disc, no figure, digital silence), then either one class for S - 2 s, or two classes of
(S - 4) / 2 s each with 2 s of nothing between, then 1 s of nothing (so no segment touches the
file's end). Every second video then holds `background_seconds` (default 10) more of nothing:
time no annotation covers, long enough for `phar prepare-data` to cut background clips from, as
it does from any annotated video. The second class of a two-class video is the class's partner (alpha-beta,
gamma-delta). Every alpha or beta video holds both: the two then share one look in every video,
so no split by video can let the RGB stream tell them apart by a video's look (luck on a small
validation set would otherwise beat the 0.75 bound). Every second gamma or delta video holds
both. Annotations are those time ranges, never the whole file.
"""
from __future__ import annotations

import csv
import json
import math
import os
import string
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from phar_cli.spans import Span
from phar_cli.synthetic.figure import Figure
from phar_cli.synthetic.video import Scene, make_video


@dataclass(frozen=True)
class ClassSpec:
    """What makes a class: the disc's motion (rgb), the figure's motion (rgb, skeleton), the
    tone (audio)."""

    shape_motion: str
    figure: str
    tone_hz: float


CLASSES: dict[str, ClassSpec] = {
    "alpha": ClassSpec("left-right", "wave", 300.0),
    "beta": ClassSpec("left-right", "wave", 1200.0),
    "gamma": ClassSpec("circle", "wave", 300.0),
    "delta": ClassSpec("circle", "squat", 300.0),
}
LABEL_MAPS: dict[str, list[str]] = {
    "rgb": ["alpha", "beta", "gamma", "delta"],
    "skeleton": ["gamma", "delta"],
    "audio": ["alpha", "beta"],
}
FORMATS = ("csv", "via", "via-json")
DARK_BACKGROUNDS = ((0, 0, 0), (20, 20, 20), (40, 40, 40), (15, 20, 45), (45, 20, 20),
                    (20, 40, 25), (35, 35, 15), (40, 20, 40))
CRF = 18  # libx264 quality: joint colours survive comfortably (they do even at 28)
LEAD_GAP, MID_GAP = 1.0, 2.0  # seconds of nothing before the first and between two segments
BACKGROUND_SECONDS = 10.0  # nothing at the end of every second video: a 7 s clip and its margins


@dataclass(frozen=True)
class Segment:
    """One annotated time range of a video (`video` is relative to the videos folder)."""

    video: str
    start: float
    end: float
    label: str

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)


@dataclass(frozen=True)
class Look:
    """The nuisance factors of one video (fixed across its segments)."""

    background: tuple[int, int, int]
    shape_color: tuple[int, int, int]
    figure_center: tuple[float, float]
    figure_scale: float
    figure_phase: float
    shape_phase: float
    pitch: float  # multiplies each class's tone
    loudness_db: float
    noise_db: float


@dataclass
class SyntheticDataset:
    """What `make_dataset` wrote. Paths are absolute."""

    folder: Path
    videos: list[Path]
    annotations: Path | None       # annotations.csv: video,start,end,label
    label_maps: dict[str, Path]    # rgb / skeleton / audio -> labels/<stream>.txt
    segments: list[Segment]
    via_csvs: list[Path] = field(default_factory=list)  # via/<video base name>.csv
    via_project: Path | None = None                     # via_project.json

    @property
    def videos_dir(self) -> Path:
        return self.folder / "videos"


def random_look(rng: np.random.Generator) -> Look:
    grey = int(rng.integers(150, 256))
    return Look(
        background=DARK_BACKGROUNDS[int(rng.integers(len(DARK_BACKGROUNDS)))],
        shape_color=(grey, grey, grey),
        figure_center=(float(rng.uniform(0.42, 0.58)), float(rng.uniform(0.50, 0.56))),
        figure_scale=float(rng.uniform(0.95, 1.1)),
        figure_phase=float(rng.uniform(0.0, 2.0)),
        shape_phase=float(rng.uniform(0.0, 2.0)),
        pitch=float(rng.uniform(0.97, 1.03)),
        loudness_db=float(rng.uniform(-20.0, -12.0)),
        noise_db=float(rng.uniform(-60.0, -50.0)),
    )


def class_scene(label: str | None, duration: float, look: Look) -> Scene:
    """The scene of `label` (None: nothing — a still disc, no figure, silence) in `look`."""
    if label is None:
        return Scene(duration, look.background, "still", None, shape_color=look.shape_color,
                     phase=look.shape_phase)
    try:
        spec = CLASSES[label]
    except KeyError:
        raise ValueError(f"unknown class {label!r}; one of {', '.join(CLASSES)}") from None
    figure = Figure(spec.figure, look.figure_center, look.figure_scale, look.figure_phase)
    return Scene(duration, look.background, spec.shape_motion, spec.tone_hz * look.pitch,
                 look.loudness_db, shape_color=look.shape_color, noise_db=look.noise_db,
                 figure=figure, phase=look.shape_phase)


def make_composed_video(path: str | os.PathLike[str], parts: Sequence[tuple[str | None, float]],
                        *, size: tuple[int, int] = (160, 120), fps: float = 15,
                        seed: int = 0) -> Path:
    """A video of consecutive parts, e.g. [("alpha", 14), ("delta", 14), ("beta", 14)].

    A part's label None is nothing (no figure, silence). The nuisance factors come from `seed`
    and stay fixed over the video, so two parts differ only in what their classes differ in.
    Part boundaries sit at the cumulative sums of the durations. Returns the path.
    """
    if not parts:
        raise ValueError("give at least one part")
    rng = np.random.default_rng([seed, 1_000_003])
    look = random_look(rng)
    scenes = [class_scene(label, float(seconds), look) for label, seconds in parts]
    return make_video(path, fps=fps, size=size, segments=scenes, seed=seed, crf=CRF)


def composed_segments(video: str, parts: Sequence[tuple[str | None, float]]) -> list[Segment]:
    """The annotated segments of a composition (the parts that are not nothing)."""
    out, t = [], 0.0
    for label, seconds in parts:
        if label is not None:
            out.append(Segment(video, round(t, 6), round(t + seconds, 6), label))
        t += seconds
    return out


def video_layout(n_classes: int, class_index: int, j: int,
                 seconds: float) -> list[tuple[int | None, float]]:
    """Parts (class index or None for nothing, seconds) of the j-th video of a class.

    Classes pair up by index (0-1, 2-3, ...); the first pair (alpha-beta, which only sound tells
    apart) always shares a video, the others every second video."""
    partner = class_index ^ 1
    if partner < n_classes and (class_index < 2 or j % 2 == 1):
        each = (seconds - 2 * LEAD_GAP - MID_GAP) / 2
        return [(None, LEAD_GAP), (class_index, each), (None, MID_GAP), (partner, each),
                (None, LEAD_GAP)]
    return [(None, LEAD_GAP), (class_index, seconds - 2 * LEAD_GAP), (None, LEAD_GAP)]


def make_dataset(folder: str | os.PathLike[str], *, videos_per_class: int = 6,
                 seconds_per_video: float = 21, size: tuple[int, int] = (160, 120),
                 fps: float = 15, seed: int = 0, formats: Sequence[str] = ("csv",),
                 background_seconds: float = BACKGROUND_SECONDS,
                 workers: int | None = None) -> SyntheticDataset:
    """Write `folder/videos/*.mp4`, the annotations in `formats` and `folder/labels/*.txt`.

    formats: "csv" (annotations.csv: video,start,end,label), "via" (VIA 3 CSV export, one per
    video: via/<video base name>.csv, as the seed's annotations came), "via-json" (one VIA 3
    project, via_project.json). The same seed writes the same dataset.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown annotation format {unknown[0]!r}; one of {', '.join(FORMATS)}")
    if videos_per_class < 1:
        raise ValueError(f"videos_per_class must be at least 1: {videos_per_class}")
    if seconds_per_video < 9:
        raise ValueError(f"seconds_per_video must be at least 9: {seconds_per_video}")
    folder = Path(folder).resolve()
    videos_dir = folder / "videos"
    labels = list(CLASSES)
    jobs = []
    segments: list[Segment] = []
    for j in range(videos_per_class):
        for c in range(len(labels)):
            i = len(jobs)
            name = f"video_{i:03d}.mp4"
            rng = np.random.default_rng([seed, i])
            look = random_look(rng)
            layout = video_layout(len(labels), c, j, seconds_per_video)
            parts = [(None if k is None else labels[k], sec) for k, sec in layout]
            if i % 2 == 1 and background_seconds > 0:
                parts.append((None, background_seconds))
            t = 0.0
            for label, sec in parts:
                if label is not None:
                    segments.append(Segment(name, round(t, 6), round(t + sec, 6), label))
                t += sec
            scenes = [class_scene(label, sec, look) for label, sec in parts]
            jobs.append((videos_dir / name, scenes, seed * 100_003 + i))

    def encode(job) -> Path:
        path, scenes, video_seed = job
        return make_video(path, fps=fps, size=size, segments=scenes, seed=video_seed, crf=CRF)

    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:  # ffmpeg encodes while we draw
        videos = list(pool.map(encode, jobs))

    result = SyntheticDataset(folder, videos, None, write_label_maps(folder / "labels"), segments)
    if "csv" in formats:
        result.annotations = write_plain_csv(folder / "annotations.csv", segments)
    if "via" in formats:
        result.via_csvs = write_via_csvs(folder / "via", segments, seed)
    if "via-json" in formats:
        result.via_project = write_via_project(folder / "via_project.json", segments, seed)
    return result


# -- annotation writers -------------------------------------------------------------------------

def write_label_maps(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for stream, labels in LABEL_MAPS.items():
        out[stream] = folder / f"{stream}.txt"
        out[stream].write_text("".join(f"{label}\n" for label in labels), encoding="utf-8")
    return out


def write_plain_csv(path: Path, segments: Sequence[Segment]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["video", "start", "end", "label"])
        for s in segments:
            writer.writerow([s.video, _js_number(s.start), _js_number(s.end), s.label])
    return path


# The VIA 3 video annotator's "Export ... as CSV" (via_video_annotator, export_to_via3_csv): six
# '#' lines, then one row per temporal segment; JSON cells are quoted with '"' doubled.
VIA_ATTRIBUTE = {"1": {"aname": "Activity", "anchor_id": "FILE1_Z2_XY0", "type": 1,
                       "desc": "Activity", "options": {}, "default_option_id": ""}}
_VIA_SHAPE_ID = {"POINT": 1, "RECTANGLE": 2, "CIRCLE": 3, "ELLIPSE": 4, "LINE": 5, "POLYLINE": 6,
                 "POLYGON": 7, "EXTREME_RECTANGLE": 8, "EXTREME_CIRCLE": 9}
_VIA_CSV_HEADER = [
    "# Exported using VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)",
    "# Notes:",
    "# - spatial_coordinates of [2,10,20,50,80] denotes a rectangle (shape_id=2) of size 50x80 "
    "placed at (10,20)",
    "# - temporal coordinate of [1.349,2.741] denotes a temporal segment from time 1.346 sec. "
    "to 2.741 sec.",
    "# - temporal coordinate of [4.633] denotes a still video frame at 4.633 sec.",
    '# - metadata of {""1"":""3""} indicates attribute with id "1" set to an attribute option '
    'with id "3"',
    "# SHAPE_ID = " + json.dumps(_VIA_SHAPE_ID, separators=(",", ":")),
    '# FLAG_ID = {"RESERVED_FOR_FUTURE":1}',
    "# ATTRIBUTE = " + json.dumps(VIA_ATTRIBUTE, separators=(",", ":")),
    "# CSV_HEADER = metadata_id,file_list,flags,temporal_coordinates,spatial_coordinates,metadata",
]


def write_via_csvs(folder: Path, segments: Sequence[Segment], seed: int = 0) -> list[Path]:
    """One VIA 3 CSV export per video, named after the video's base name."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n, (video, items) in enumerate(_by_video(segments).items()):
        ids = _metadata_ids(len(items), seed, n)
        lines = list(_VIA_CSV_HEADER)
        for mid, s in zip(ids, items):
            lines.append(",".join([
                f'"{mid}"', _via_cell([video]), "0", _via_cell([s.start, s.end]), _via_cell([]),
                _via_cell({"1": s.label})]))
        path = folder / (Path(video).stem + ".csv")
        path.write_text("\n".join(lines), encoding="utf-8")  # VIA writes no final newline
        out.append(path)
    return out


def write_via_project(path: Path, segments: Sequence[Segment], seed: int = 0) -> Path:
    """All videos in one VIA 3 project JSON (what "Save project" writes)."""
    groups = _by_video(segments)
    vids = [str(k + 1) for k in range(len(groups))]
    project = {
        "project": {"pid": "__VIA_PROJECT_ID__", "rev": "__VIA_PROJECT_REV_ID__",
                    "rev_timestamp": "__VIA_PROJECT_REV_TIMESTAMP__",
                    "pname": "phar synthetic dataset",
                    "creator": "VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)",
                    "created": 0, "vid_list": vids},
        "config": {"file": {"loc_prefix": {"1": "", "2": "", "3": "", "4": ""}},
                   "ui": {"file_content_align": "center", "file_metadata_editor_visible": True,
                          "spatial_metadata_editor_visible": True,
                          "spatial_region_label_attribute_id": ""}},
        "attribute": VIA_ATTRIBUTE,
        "file": {}, "metadata": {}, "view": {},
    }
    for n, (vid, (video, items)) in enumerate(zip(vids, groups.items())):
        project["file"][vid] = {"fid": vid, "fname": video, "type": 4, "loc": 1, "src": ""}
        project["view"][vid] = {"fid_list": [vid]}
        for mid, s in zip(_metadata_ids(len(items), seed, n, vid), items):
            project["metadata"][mid] = {"vid": vid, "flg": 0, "z": [_plain(s.start), _plain(s.end)],
                                        "xy": [],
                                        "av": {"1": s.label}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(project, separators=(",", ":")), encoding="utf-8")
    return path


def _by_video(segments: Sequence[Segment]) -> dict[str, list[Segment]]:
    groups: dict[str, list[Segment]] = {}
    for s in segments:
        groups.setdefault(s.video, []).append(s)
    return groups


def _metadata_ids(count: int, seed: int, n: int, vid: str = "1") -> list[str]:
    """VIA's metadata ids: '<view id>_<8 random letters and digits>' (seeded here)."""
    rng = np.random.default_rng([seed, n, 7])
    chars = np.array(list(string.ascii_letters + string.digits))
    return [f"{vid}_" + "".join(rng.choice(chars, 8)) for _ in range(count)]


def _via_cell(value) -> str:
    """A JSON value as VIA writes it into a CSV cell (JS JSON.stringify, '"' doubled)."""
    return '"' + _js_json(value).replace('"', '""') + '"'


def _js_json(value) -> str:
    if isinstance(value, float):
        return _js_number(value)
    if isinstance(value, list):
        return "[" + ",".join(_js_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_js_json(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def _plain(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _js_number(x: float) -> str:
    """Numbers as JavaScript prints them: 9.0 -> '9', 9.5 -> '9.5'."""
    x = float(x)
    if math.isfinite(x) and x == int(x):
        return str(int(x))
    return repr(x)
