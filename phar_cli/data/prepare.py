"""`phar prepare-data`: annotated videos → the RGB, skeleton and audio datasets of `DatasetLayout`.

Each video is probed and decoded once. RGB clips stay inside their source video (a row of video
path + start/end frame; see `phar_cli.train.datasets` for why no clip files are cut). Poses are
extracted once per video, on the frames of its clips only, with the same detector + pose code
(or pose backend) as inference, and cached per video so a rerun skips videos already done. Audio
features are built per clip exactly as inference builds them per window, and the quietest clips
are pruned. `dataset.json` is written last: until it exists the folder is not a dataset.
"""
from __future__ import annotations

import logging
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from phar_cli.core.labels import canonical
from phar_cli.core.people import track_people
from phar_cli.spans import Span
from phar_cli.data.annotations import AnnotationSet, Problem, read_annotations
from phar_cli.data.clips import Clip, background_clips, plan_clips, split_by_video
from phar_cli.data.layout import SCHEMA, STREAMS, DatasetLayout
from phar_cli.data.report import StreamStats, class_distribution, distribution_chart
from phar_cli.atomic import atomic_write_bytes
from phar_cli.defaults import (DEFAULT_BACKGROUND, DEFAULT_DET_SCORE_THR, DEFAULT_POSE_BACKEND,
                               DEFAULT_POSE_SCORE_THR, DEFAULT_SUBCLIP_LEN)
from phar_cli.media.audio import AUDIO_FEATURES
from phar_cli.errors import InvalidOption, PharError
from phar_cli.models.bundle import ModelOverrides
from phar_cli.models.pose_backends import check_backend

log = logging.getLogger("phar")
Progress = Callable[[str, int, int], None]
POSE_CHUNK = 32  # frames decoded and posed at a time: memory stays flat with video length


@dataclass
class PrepareOptions:
    labels: dict[str, list[str]]            # stream -> label map
    clip_len: float = DEFAULT_SUBCLIP_LEN
    overlap: float = 0.0
    val_ratio: float = 0.2
    seed: int = 0
    pose_score_thr: float = DEFAULT_POSE_SCORE_THR  # a frame is good when its person scores this
    pose_frame_rate: float = 0.4            # ... and a clip needs this share of good frames
    audio_prune: float = 0.2                # the quietest share of audio clips dropped
    audio_features: dict[str, int] = field(default_factory=lambda: dict(AUDIO_FEATURES))
    pose_backend: str = DEFAULT_POSE_BACKEND
    max_people: int = 2
    # The pose front end (mmpose backend): where it runs and which det/pose files it loads
    # (None: $PHAR_HOME/models's).
    device: str = "auto"
    det_score_thr: float = DEFAULT_DET_SCORE_THR
    pose_models: ModelOverrides = field(default_factory=ModelOverrides)
    # Background: clips of the time no annotation covers, as one more class (None: none).
    background: str | None = DEFAULT_BACKGROUND
    background_ratio: float = 1.0   # at most this many times the mean clips of an action class
    background_margin: float = 1.0  # seconds kept away from every annotation

    def __post_init__(self) -> None:
        for name in ("val_ratio", "audio_prune", "pose_score_thr", "pose_frame_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidOption(name, f"must be between 0 and 1 (got {value})")
        for name in ("background_ratio", "background_margin"):
            if getattr(self, name) < 0:
                raise InvalidOption(name, f"must be >= 0 (got {getattr(self, name)})")
        if self.background is not None:
            self.background = canonical(self.background)
        self.pose_backend = check_backend(self.pose_backend)

    def pose_estimator(self) -> Any:
        """The pose front end inference uses with these settings (loaded now)."""
        from phar_cli.models.bundle import resolve_files
        from phar_cli.models.devices import resolve_device
        from phar_cli.models.pose_backends import load_pose_estimator, pose_model_names

        files = resolve_files(list(pose_model_names(self.pose_backend)), self.pose_models)
        return load_pose_estimator(self.pose_backend, files, resolve_device(self.device),
                                   det_score_thr=self.det_score_thr)


@dataclass
class PrepareResult:
    layout: DatasetLayout
    stats: dict[str, StreamStats]
    problems: list[Problem]


class PrepareError(PharError):
    """Nothing usable to build a dataset from."""


def prepare_dataset(videos_dir: str | Path, annotations: str | Path, output: str | Path,
                    options: PrepareOptions, pose_estimator: Callable[[], Any] | None = None,
                    progress: Progress | None = None) -> PrepareResult:
    """`pose_estimator` makes the pose front end (called once, only if poses are needed; default
    `options.pose_estimator`)."""
    pose_estimator = pose_estimator or options.pose_estimator
    from phar_cli.media.probe import probe

    progress = progress or (lambda step, done, total: None)
    layout = DatasetLayout.at(output)
    durations: dict[Path, float] = {}

    def duration_of(path: Path) -> float:
        if path not in durations:
            durations[path] = probe(path).duration
        return durations[path]

    found: AnnotationSet = read_annotations(annotations, videos_dir, labels=options.labels["rgb"],
                                            duration_of=duration_of)
    clips = plan_clips(found.annotations, options.clip_len, options.overlap)
    if not clips:
        raise PrepareError(f"{annotations}: no clip of {options.clip_len:g} s fits in the usable "
                           f"annotations ({len(found.problems)} problems reported)")
    train, val = split_by_video(clips, options.val_ratio, options.seed)
    split_of = {id(c): "train" for c in train} | {id(c): "val" for c in val}
    background = _background_clips(annotations, videos_dir, found, clips, durations, duration_of,
                                   options)
    val_videos = {c.video for c in val}
    for clip in background:  # a video's time stays on its side of the split
        split_of[id(clip)] = "val" if clip.video in val_videos else "train"
        (val if clip.video in val_videos else train).append(clip)
    clips = sorted(clips + background, key=lambda c: (c.video, c.span.start, c.span.end))
    labels = {s: list(options.labels[s]) + ([options.background] if background and
                                             options.background not in options.labels[s] else [])
              for s in STREAMS}

    layout.root.mkdir(parents=True, exist_ok=True)
    layout.manifest_path.unlink(missing_ok=True)  # the folder is not a dataset until the end
    for sub in (layout.audio_dir, layout.poses_dir, layout.root / "labels"):
        sub.mkdir(parents=True, exist_ok=True)
    wanted = {s: {canonical(x) for x in labels[s]} for s in STREAMS}
    index = {s: {lab: i for i, lab in enumerate(labels[s])} for s in STREAMS}
    rgb_rows: dict[str, list[str]] = {"train": [], "val": []}
    skeleton: list[dict[str, Any]] = []
    audio: list[tuple[float, str, str]] = []   # (loudness, row, split)
    kept: dict[str, list[Clip]] = {s: [] for s in STREAMS}
    estimator = None
    by_video: dict[str, list[Clip]] = {}
    for clip in clips:
        by_video.setdefault(clip.video, []).append(clip)

    for n, (key, video_clips) in enumerate(sorted(by_video.items())):
        path = found.videos[key]
        info = probe(path)
        frame_ranges = [_frames(c.span, info) for c in video_clips]
        for clip, (start, end) in zip(video_clips, frame_ranges):
            if clip.label in wanted["rgb"]:
                split = split_of[id(clip)]
                rgb_rows[split].append(f"{path.resolve()}\t{start}\t{end}\t{index['rgb'][clip.label]}")
                kept["rgb"].append(clip)
        pose_clips = [(c, r) for c, r in zip(video_clips, frame_ranges) if c.label in wanted["skeleton"]]
        if pose_clips:
            if estimator is None and pose_estimator is not None:
                estimator = pose_estimator()
            if estimator is not None:
                cache = _video_poses(layout, key, path, info, [r for _, r in pose_clips], estimator,
                                     options.pose_backend)
                for clip, (start, end) in pose_clips:
                    entry = _skeleton_entry(clip, start, end, cache, info, options,
                                            index["skeleton"][clip.label], _clip_id(key, clip))
                    if entry is not None:
                        entry["split"] = split_of[id(clip)]
                        skeleton.append(entry)
                        kept["skeleton"].append(clip)
        audio_clips = [(c, r) for c, r in zip(video_clips, frame_ranges) if c.label in wanted["audio"]]
        if audio_clips and info.has_audio:
            audio += _audio_rows(layout, key, path, audio_clips, options, index["audio"], split_of)
        progress("videos", n + 1, len(by_video))

    audio_kept = _prune_quietest(audio, options.audio_prune, layout)
    audio_ids = {row.split(" ", 1)[0] for _, row, _ in audio_kept}
    kept["audio"] = [c for c in clips if f"{_clip_id(c.video, c)}.npy" in audio_ids]

    for split in ("train", "val"):
        atomic_write_bytes(layout.rgb_list(split), _lines(rgb_rows[split]))
        atomic_write_bytes(layout.audio_list(split),
                           _lines([row for _, row, s in audio_kept if s == split]))
    for s in STREAMS:  # a stream learns background only where it kept clips of it
        if options.background in labels[s] and not any(c.label == options.background
                                                       for c in kept[s]):
            labels[s].remove(options.background)  # the last label: no other index moves
        atomic_write_bytes(layout.label_path(s), "\n".join(labels[s]).encode() + b"\n")
    pose_split = {s: [e["frame_dir"] for e in skeleton if e["split"] == s] for s in ("train", "val")}
    for entry in skeleton:
        del entry["split"]
    atomic_write_bytes(layout.skeleton_pickle, pickle.dumps(
        {"split": pose_split, "annotations": skeleton}, protocol=pickle.HIGHEST_PROTOCOL))

    is_val = {id(c) for c in val}
    stats = {s: class_distribution(s, [c for c in kept[s] if id(c) not in is_val],
                                   [c for c in kept[s] if id(c) in is_val], labels[s])
             for s in STREAMS}
    try:
        distribution_chart(stats, layout.report_png)
    except PharError as ex:  # a chart is a report: its failure must not lose the dataset
        log.warning("class distribution chart not written: %s", ex)
    atomic_write_bytes(layout.clips_path, orjson.dumps([
        {"video": str(found.videos[c.video].resolve()), "start": c.span.start, "end": c.span.end,
         "label": c.label, "split": split_of[id(c)]} for c in clips], option=orjson.OPT_INDENT_2))
    manifest = {
        "schema": SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "videos_dir": str(Path(videos_dir).resolve()),
        "annotations": [str(p) for p in found.sources],
        "clip_len": options.clip_len, "overlap": options.overlap, "val_ratio": options.val_ratio,
        "seed": options.seed, "pose_backend": options.pose_backend,
        "pose_filter": {"score_thr": options.pose_score_thr, "frame_rate": options.pose_frame_rate},
        "audio_prune": options.audio_prune, "audio_features": options.audio_features,
        "labels": labels,
        "background": ({"label": options.background, "clips": len(background),
                        "ratio": options.background_ratio, "margin": options.background_margin}
                       if options.background else None),
        "videos": {"train": sorted({c.video for c in train}), "val": sorted({c.video for c in val})},
        "streams": {s: {"train": stats[s].total("train").clips, "val": stats[s].total("val").clips,
                        **stats[s].to_dict()} for s in STREAMS},
        "problems": [vars(p) for p in found.problems],
    }
    atomic_write_bytes(layout.manifest_path, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return PrepareResult(DatasetLayout.open(layout.root), stats, found.problems)


def _background_clips(annotations: str | Path, videos_dir: str | Path, found: AnnotationSet,
                      clips: list[Clip], durations: dict[Path, float],
                      duration_of: Callable[[Path], float], options: PrepareOptions) -> list[Clip]:
    """Background clips of the annotated videos: their time that no annotation covers, any
    label counted (a label outside the maps is still something happening), capped at
    `background_ratio` times the mean clips of an action class."""
    if options.background is None or options.background_ratio == 0:
        return []
    everything = read_annotations(annotations, videos_dir, duration_of=duration_of, overlap="keep")
    covered: dict[str, list[Span]] = {key: [] for key in found.videos}
    for ann in everything.annotations:
        if ann.video in covered:
            covered[ann.video].append(ann.span)
    per_class = len(clips) / max(1, len({c.label for c in clips}))
    first = {}
    for clip in clips:
        first[clip.video] = max(first.get(clip.video, 0), clip.index + 1)
    return background_clips(covered, {k: durations[found.videos[k]] for k in covered},
                            options.background, clip_len=options.clip_len,
                            margin=options.background_margin,
                            limit=round(options.background_ratio * per_class), seed=options.seed,
                            first_index=first)


def _frames(span: Span, info: Any) -> tuple[int, int]:
    from phar_cli.media.decode import window_frame_range

    return window_frame_range(span, info.fps, info.frame_count)


def _clip_id(video_key: str, clip: Clip) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(video_key).with_suffix("").as_posix())
    return f"{stem}__{clip.index:04d}"


def _lines(rows: list[str]) -> bytes:
    return ("\n".join(rows) + "\n").encode() if rows else b""


# -- poses -----------------------------------------------------------------------------------

def _video_poses(layout: DatasetLayout, key: str, path: Path, info: Any,
                 ranges: list[tuple[int, int]], estimator: Any, backend: str) -> dict[int, Any]:
    """Per-frame poses of the frames in `ranges`, from the cache or extracted (then cached)."""
    from phar_cli.media.decode import FrameReader

    needed = sorted({f for start, end in ranges for f in range(start, end)})
    cache_path = layout.poses_dir / (re.sub(r"[^A-Za-z0-9._-]+", "_", key) + ".npz")
    cached = _read_pose_cache(cache_path, backend)
    if cached is not None and set(needed) <= set(cached):
        return cached
    reader = FrameReader(path, info=info)
    poses: dict[int, Any] = {}
    for i in range(0, len(needed), POSE_CHUNK):
        chunk = needed[i:i + POSE_CHUNK]
        frames = reader.frames(chunk)
        reader.park()  # no decoding ahead into memory while the pose model runs
        for frame, result in zip(chunk, estimator(frames)):
            poses[frame] = result
    _write_pose_cache(cache_path, poses, backend)
    return poses


def _write_pose_cache(path: Path, poses: dict[int, Any], backend: str) -> None:
    import io

    frames = sorted(poses)
    people = max((len(poses[f].boxes) for f in frames), default=0)
    boxes = np.zeros((len(frames), people, 5), np.float32)
    keypoints = np.zeros((len(frames), people, 17, 2), np.float32)
    scores = np.zeros((len(frames), people, 17), np.float32)
    counts = np.zeros(len(frames), np.int32)
    for i, f in enumerate(frames):
        n = len(poses[f].boxes)
        counts[i] = n
        boxes[i, :n], keypoints[i, :n], scores[i, :n] = poses[f].boxes, poses[f].keypoints, poses[f].scores
    buf = io.BytesIO()
    np.savez_compressed(buf, frames=np.asarray(frames, np.int64), counts=counts, boxes=boxes,
                        keypoints=keypoints, scores=scores, backend=np.asarray(backend))
    atomic_write_bytes(path, buf.getvalue())


def _read_pose_cache(path: Path, backend: str) -> dict[int, Any] | None:
    from phar_cli.models.poses import FramePoses

    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            if str(z["backend"]) != backend:
                return None
            out = {}
            for i, f in enumerate(z["frames"].tolist()):
                n = int(z["counts"][i])
                out[f] = FramePoses(z["boxes"][i, :n], z["keypoints"][i, :n], z["scores"][i, :n])
            return out
    except (OSError, KeyError, ValueError):
        return None  # a damaged cache is extracted again


def _skeleton_entry(clip: Clip, start: int, end: int, poses: dict[int, Any], info: Any,
                    options: PrepareOptions, label: int, clip_id: str) -> dict[str, Any] | None:
    """The PoseDataset annotation of one clip, or None when the seed's quality filter drops it."""
    frames = [poses[f] for f in range(start, end) if f in poses]
    keypoint, keypoint_score = track_people(frames, options.max_people)
    if keypoint.shape[0] == 0:
        return None
    best = keypoint_score.mean(axis=2).max(axis=0)  # per frame: the best person's mean score
    if float(np.mean(best >= options.pose_score_thr)) < options.pose_frame_rate:
        return None
    shape = (int(info.height), int(info.width))
    return {"frame_dir": clip_id, "label": label, "img_shape": shape, "original_shape": shape,
            "total_frames": int(keypoint.shape[1]), "keypoint": keypoint.astype(np.float32),
            "keypoint_score": keypoint_score.astype(np.float32)}


# -- audio -----------------------------------------------------------------------------------

def _audio_rows(layout: DatasetLayout, key: str, path: Path, clips: list[tuple[Clip, tuple[int, int]]],
                options: PrepareOptions, index: dict[str, int], split_of: dict[int, str]
                ) -> list[tuple[float, str, str]]:
    from phar_cli.media.audio import integrated_loudness, load_waveform, log_mel

    params = options.audio_features
    sr = params["sample_rate"]
    wave = load_waveform(path, sample_rate=sr)
    rows = []
    for clip, (start, end) in clips:
        part = wave[int(clip.span.start * sr):int(clip.span.end * sr)]
        loudness = integrated_loudness(part, sr)
        if not np.isfinite(loudness):
            continue  # digital silence: nothing to learn from
        name = f"{_clip_id(key, clip)}.npy"
        buf = _npy(log_mel(part, **params))
        atomic_write_bytes(layout.audio_dir / name, buf)
        rows.append((float(loudness), f"{name} {end - start} {index[clip.label]}", split_of[id(clip)]))
    return rows


def _npy(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array.astype(np.float32))
    return buf.getvalue()


def _prune_quietest(rows: list[tuple[float, str, str]], share: float,
                    layout: DatasetLayout) -> list[tuple[float, str, str]]:
    """Drop the quietest `share` of the audio clips (the seed pruned its bottom 20%)."""
    if not rows or share <= 0:
        return rows
    threshold = float(np.quantile([r[0] for r in rows], share))
    kept = [r for r in rows if r[0] >= threshold]
    for loudness, row, _ in rows:
        if loudness < threshold:
            (layout.audio_dir / row.split(" ", 1)[0]).unlink(missing_ok=True)
    return kept
