"""The shared inference core. One Engine owns the device and the loaded models; it analyses a
video by decoding it once, planning windows, batching windows through each stream, applying the
seed's gates and fusing the scores. Every command (and a batch runner holding one Engine for many
videos) goes through `Engine.analyse`.

Where the time goes (docs/performance.md has the figures): the models. So the models run on the
calling thread one batch after another, each batch taken across windows, and everything else is
kept off their path: several decoders read runs of windows in parallel and a thread
pre-processes them ahead of the models (bounded, so memory does not grow with the video;
`media/window_frames.py`), the audio is streamed from one ffmpeg pipe, and the skeleton's
det/pose inputs are prepared on a helper thread one chunk ahead of each forward, a forward
taking frames (then people) from a group of windows (`core/skeleton.group_poses`).

Where the content stream runs (`core/content.py`), it goes first, over the whole video at one
frame a second: its content-free time paints the timeline later, and with its gate the action
models are given only the windows where some frame shows content.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from phar_cli.core.changes import (BLOCK, HALF, MOVING_HALF, Change, change_points,
                                   layout_changes, merged, placed, pose_changes)
from phar_cli.core.content import (Content, ContentOptions, content_of, gate_skips,
                                   sample_times)
from phar_cli.core.fusion import DEFAULT_RULE, DEFAULT_WEIGHTS, check_rule, fuse
from phar_cli.core.gates import GateOptions, audio_wanted, loud_enough, pose_quality, skeleton_wanted
from phar_cli.core.labels import read_label_map
from phar_cli.core.look import MODEL_ID_LEN, Look, look_of
from phar_cli.core.predictions import Analysis, Scores, VideoMeta, WindowPrediction, ranked
from phar_cli.core.options import defaults, options, reference_options
from phar_cli.core.profiles import DEFAULT_PROFILE, check_profile
from phar_cli.core.refine import RefineOptions, refine
from phar_cli.core.skeleton import group_poses, pose_groups
from phar_cli.core.timeline import timeline_of
from phar_cli.core.windows import plan_strided, plan_windows
from phar_cli.defaults import DEFAULT_BACKGROUND, DEFAULT_POSE_BACKEND, STREAMS
from phar_cli.errors import InvalidOption, PharError, UsageError
from phar_cli.media.vr import check_vr, stereo_layout
from phar_cli.models.bundle import ModelFiles  # noqa: F401 - also importable from here
from phar_cli.models.pins import sha256_of
from phar_cli.models.pose_backends import pose_model_names
from phar_cli.spans import Span

log = logging.getLogger("phar")
Progress = Callable[[str, int, int], None]  # (step, done, total)
T = TypeVar("T")


class VideoTooShort(PharError):
    """A video shorter than one kept window: refused, nothing is written."""


CLOSER_FPS = 10.0  # poses a second around a change of movement, to place it
_D = defaults()  # the options table's (core/options.py): every default written once, there


@dataclass
class EngineOptions:
    """The resolved options an Engine runs with (`phar.engine_options` makes them from the
    options table, `core/options.py`, where each is described)."""

    models: dict[str, ModelFiles]           # rgb, skeleton, audio, det, pose
    streams: tuple[str, ...] = _D["streams"]
    device: str = _D["device"]
    subclip_len: float = _D["subclip_len"]
    min_last_window: float = _D["min_last_window"]
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    gates: GateOptions = field(default_factory=GateOptions)
    det_score_thr: float = _D["det_score_thr"]
    pose_backend: str = DEFAULT_POSE_BACKEND  # the skeleton's front end (models/pose_backends.py)
    max_people: int = _D["max_people"]
    batch_size: int | None = _D["batch_size"]   # None: from the device (models/batching.py)
    frame_batch: int | None = _D["frame_batch"]
    decode_workers: int | None = _D["decode_workers"]  # None: media/window_frames.py's
    prefetch: int = _D["prefetch"]
    # Speed options. The defaults give the reference scores; docs/performance.md measures each.
    threads: int | None = _D["threads"]
    det_size: int | None = _D["det_size"]
    det_proposals: int | None = _D["det_proposals"]
    det_every: int = _D["det_every"]
    pose_every: int = 1           # pose every N-th frame of a person (None in the table: profile's)
    precision: str = "fp32"       # model forwards: fp32, bf16, fp16 (None in the table: profile's)
    skeleton_clips: int | None = _D["skeleton_clips"]
    rgb_views: int | None = _D["rgb_views"]
    preprocess: str = _D["preprocess"]
    profile: str = _D["profile"]
    from_profile: tuple[str, ...] = ()  # the options the profile filled (not given): per device
    # What the scores mean (core/fusion.py): the rule, and a calibration ({}: none).
    fusion_rule: str = DEFAULT_RULE
    temperatures: dict[str, float] = field(default_factory=dict)
    background: str = DEFAULT_BACKGROUND  # the label of "nothing happens", where a model has it
    # Boundaries (core/refine.py): extra windows placed across each change of label, and where
    # it lies near a shot cut, the cut. `stride`: windows every so many seconds instead of a grid.
    refine: bool = _D["refine"]
    resolution: float = _D["resolution"]
    snap_to_cuts: float = _D["snap_to_cuts"]
    min_part: float = _D["min_part"]
    stride: float | None = _D["stride"]
    vr: str = _D["vr"]  # stereo VR frames: one eye analysed (media/vr.py)
    # The content stream (core/content.py): resolved on or off by `engine_options`.
    content: bool = False
    content_fps: float = _D["content_fps"]
    content_high: float = _D["content_high"]
    content_low: float = _D["content_low"]
    content_min_free: float = _D["content_min_free"]
    content_overrides: str = _D["content_overrides"]
    content_gate: bool = False    # (None in the table: the profile's)

    def __post_init__(self) -> None:
        unknown = [s for s in self.streams if s not in STREAMS]
        if unknown or not self.streams:
            raise InvalidOption("streams", f"{{option}}: unknown stream(s) "
                                           f"{', '.join(unknown) or '(none)'}; "
                                           f"choose from {', '.join(STREAMS)}")
        if self.subclip_len <= 0:
            raise InvalidOption("subclip_len", "must be positive")
        for name, option in options().items():  # the table's bounds, where it sets them
            value = getattr(self, name, None)
            if value is None or isinstance(value, bool):
                continue
            if option.min is not None and value < option.min:
                raise InvalidOption(name, f"must be at least {option.min:g} (got {value})")
            if option.max is not None and value > option.max:
                raise InvalidOption(name, f"must be at most {option.max:g} (got {value})")
        if not 0.0 <= self.det_score_thr <= 1.0:
            raise InvalidOption("det_score_thr", f"must be between 0 and 1 (got {self.det_score_thr})")
        from phar_cli.models.accel import parse_precision
        from phar_cli.models.pose_backends import check_backend

        self.pose_backend = check_backend(self.pose_backend)
        self.precision = parse_precision(self.precision)
        check_rule(self.fusion_rule)
        check_vr(self.vr)
        check_profile(self.profile)
        self.refinement  # checks them
        self.content_settings  # checks them
        if self.stride is not None and not 0 < self.stride <= self.subclip_len:
            raise InvalidOption("stride", f"must be above 0 and at most the window length "
                                          f"({self.subclip_len:g} s), got {self.stride:g}")
        for name, t in self.temperatures.items():
            if not t > 0:
                raise InvalidOption("temperatures", f"{name}: must be positive (got {t})")

    @property
    def refinement(self) -> RefineOptions:
        return RefineOptions(self.resolution, self.snap_to_cuts, self.min_part)

    @property
    def content_settings(self) -> ContentOptions:
        return ContentOptions(self.content_fps, self.content_high, self.content_low,
                              self.content_min_free, self.content_gate, self.content_overrides)


# The speed options that move scores (a little; docs/performance.md), with their reference values:
# their defaults.
SCORE_CHANGING_SPEED_OPTIONS: dict[str, Any] = {
    f.name: f.default for f in fields(EngineOptions) if f.name in reference_options()}
# Options added after analyses were first catalogued, with the values that give the analyses made
# before them: at those values they are left out of an analysis' identity (`phar batch`).
LEGACY_VALUES: dict[str, Any] = {"fusion_rule": "seed", "temperatures": {},
                                 "background": DEFAULT_BACKGROUND, "refine": False,
                                 "resolution": RefineOptions.resolution,
                                 "snap_to_cuts": RefineOptions.snap_to_cuts, "min_part": 0.0,
                                 "stride": None,
                                 "vr": "auto", "profile": DEFAULT_PROFILE, "content": False}
# The content stream's settings: part of an analysis' identity exactly when it runs.
CONTENT_SETTINGS = tuple(f"content_{f.name}" for f in fields(ContentOptions))


class Engine:
    """Holds the device and each model (loaded once, lazily, only for the streams asked for)."""

    def __init__(self, options: EngineOptions) -> None:
        from phar_cli.models.devices import resolve_device

        self.options = options
        self.device = resolve_device(options.device)
        if options.threads is not None:
            import torch

            torch.set_num_threads(options.threads)
        from phar_cli.media.window_frames import auto_decode_workers
        from phar_cli.models.batching import window_batch

        self.batch_size = options.batch_size or window_batch(self.device)
        self.decode_workers = options.decode_workers or auto_decode_workers()
        self._models: dict[str, Any] = {}
        self._readers: dict[int | None, Any] = {}
        self._eye: str | None = None  # the stereo layout of the video being analysed
        self._content: Content | None = None  # the content stream's, for the video analysed
        self._poses: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (times, kp, scores)
        self.labels = {s: read_label_map(self._files(s).labels) for s in options.streams}

    def _files(self, name: str) -> ModelFiles:
        try:
            return self.options.models[name]
        except KeyError as ex:
            raise UsageError(f"no model files given for {name}") from ex

    def model(self, name: str) -> Any:
        """The loaded model of a stream ('rgb', 'skeleton', 'audio', 'content') or 'poses' (the
        skeleton's front end)."""
        if name not in self._models:
            o = self.options
            if name == "content":
                from phar_cli.models.content import ContentModel

                self._models[name] = ContentModel(self.device, o.threads)
            elif name == "poses":
                from phar_cli.models.pose_backends import load_pose_estimator

                self._models[name] = load_pose_estimator(
                    o.pose_backend, o.models, self.device, det_score_thr=o.det_score_thr,
                    det_size=o.det_size, det_proposals=o.det_proposals, precision=o.precision,
                    preprocess=o.preprocess, batch_size=o.frame_batch)
            else:
                from phar_cli.models.recognizer import Recognizer

                files = self._files(name)
                self._models[name] = Recognizer(
                    name, files.config, files.checkpoint, self.labels[name], self.device,
                    precision=o.precision, preprocess=o.preprocess,
                    clips=o.skeleton_clips if name == "skeleton" else None,
                    views=o.rgb_views if name == "rgb" else None)
        return self._models[name]

    def load(self) -> Engine:
        """Load every model the streams need now (they load lazily otherwise), so a model
        problem shows up once, before any video is blamed for it."""
        for stream in self.options.streams:
            self.model(stream)
        if self.options.content:
            self.model("content")
        if "skeleton" in self.options.streams:
            self.model("poses")
        return self

    @property
    def analysis_labels(self) -> list[str]:
        return analysis_labels(self.labels, self.options.streams)

    def analyse(self, path: str | Path, progress: Progress | None = None, *,
                spans: list[Span] | None = None, gated: bool = True,
                vr: str | None = None) -> Analysis:
        """Analyse `path` in planned windows (or the given `spans`), then, unless refinement is
        off or `spans` were given, in extra windows across each change of label (`refine`).
        `gated=False` runs every stream on every window it can (windows without people still
        skip PoseC3D) and only records what the gates measured: `phar train fusion` tunes
        weights and gates from that. `vr` overrides the options' VR mode for this video (a
        library that knows it is VR: 'stereo')."""
        from phar_cli.media.probe import probe

        progress = progress or (lambda step, done, total: None)
        path = str(path)
        info = probe(path)
        o = self.options
        planned = spans is None
        if spans is None:
            spans = (plan_strided(info.duration, o.subclip_len, o.stride, o.min_last_window)
                     if o.stride else plan_windows(info.duration, o.subclip_len, o.min_last_window))
        if not spans:
            raise VideoTooShort(f"{path}: video is {info.duration:.2f} s long, shorter than the "
                                f"{o.min_last_window:g} s minimum window; nothing to analyse")
        self._eye = stereo_layout(path, info.width, info.height, vr or o.vr)
        if self._eye:
            log.info("%s: stereo VR (%s), the %s eye is analysed", path, self._eye,
                     "left" if self._eye == "sbs" else "top")
        self._readers = {}  # the decoders at each size, for the grid and every extra window
        self._poses = []  # the grid's poses, for the change finder
        try:
            if o.content:
                if "rgb" in o.streams:  # a broken model is told before the content pass runs
                    self.model("rgb")
                self._content = self._run_content(path, info, progress)
            refining = planned and o.refine and len(spans) > 1
            # The grid's poses also feed the change finder: posed on every window then.
            windows = self._windows(path, info, spans, progress, gated, posing=refining)
            extra: list[WindowPrediction] = []
            cuts: list[float] = []
            changes: list[Change] = []
            if refining:
                cuts, changes, moved = _signal_changes(path, info)
                # a change nearer than --min-part to one of a kind before it (sound or motion,
                # then poses, then where the picture moves) is that one, less sharply placed: the
                # part between would be too short to read alone
                changes = merged(changes, self._pose_changes(path, info), moved,
                                 apart=max(HALF, o.min_part))
                extra = refine(windows, lambda more: self._windows(path, info, more, _silent, gated),
                               duration=info.duration, window_len=o.subclip_len,
                               options=o.refinement, changes=changes,
                               progress=lambda n: progress("refine", n, n))
            content = self._content
        finally:
            self._readers, self._content, self._poses = {}, None, []
        video = VideoMeta(path, info.duration, float(info.fps), info.width, info.height)
        config = self.describe(planned)
        if self._eye:
            config["vr"] = self._eye
        labels = self.analysis_labels
        if content is not None and o.background not in labels:
            labels = labels + [o.background]  # the content stream's "nothing happens"
        analysis = Analysis(video, labels, windows, config, extra=extra, cuts=cuts,
                            changes=[c.time for c in changes], content=content)
        analysis.look = self._look(analysis)
        return analysis

    def _windows(self, path: str, info: Any, spans: list[Span], progress: Progress,
                 gated: bool, posing: bool = False) -> list[WindowPrediction]:
        """Every stream on `spans` (gated as the seed gated them), fused; with the content gate,
        windows without content are skipped (`core/content.py`). `posing`: people's poses found
        on every window the content gate lets through and kept for `_pose_changes`, PoseC3D
        still gated."""
        streams = self.options.streams
        per_stream: dict[str, dict[int, Scores]] = {s: {} for s in streams}
        extras: list[dict[str, Any]] = [{} for _ in spans]
        skipped = {i: peak for i, span in enumerate(spans)
                   if self._content is not None
                   and (peak := gate_skips(span, self._content)) is not None}
        active = [i for i in range(len(spans)) if i not in skipped]
        features: dict[int, np.ndarray] = {}  # the RGB model's pooled features, for the look
        if "rgb" in streams:
            per_stream["rgb"] = self._run_rgb(path, info, spans, active, progress, features)
        rgb = per_stream.get("rgb", {})
        if "skeleton" in streams:
            wanted = [i for i in active if not gated or i not in rgb
                      or skeleton_wanted(rgb[i], self.labels["skeleton"], self.options.gates)]
            per_stream["skeleton"] = self._run_skeleton(path, info, spans, wanted, extras, progress,
                                                        gated, posed=active if posing else [])
        if "audio" in streams and info.has_audio:
            wanted = [i for i in active if not gated or i not in rgb
                      or audio_wanted(rgb[i], self.labels["audio"], self.options.gates)]
            per_stream["audio"] = self._run_audio(path, info, spans, wanted, rgb, extras, progress,
                                                  gated)
        elif "audio" in streams:
            log.info("%s has no audio stream: the audio stream is skipped", path)
        windows = []
        for i, span in enumerate(spans):
            if i in skipped:  # no sexual content all through: the action models never saw it
                windows.append(WindowPrediction(
                    span, [(self.options.background, round(1.0 - skipped[i], 6))],
                    measures={"skipped": "content", "content_max": round(skipped[i], 6)}))
                continue
            scores = {s: per_stream[s][i] for s in streams if i in per_stream[s]}
            fused = fuse(self.analysis_labels, scores, self.options.weights,
                         rule=self.options.fusion_rule, temperatures=self.options.temperatures)
            windows.append(WindowPrediction(span, fused, scores, list(scores), extras[i],
                                            features=features.get(i)))
        return windows

    def _look(self, analysis: Analysis) -> Look | None:
        """The analysis' look (`core/look.py`): its planned windows' RGB features, the video's
        vector over the windows that are mostly action on the timeline (background and
        content-free time painted as the outputs paint them)."""
        files = self.options.models.get("rgb")
        if "rgb" not in self.options.streams or files is None or files.checkpoint is None:
            return None  # no trained RGB model: no space to compare in
        model = sha256_of(Path(files.checkpoint))[:MODEL_ID_LEN]
        action = [p.span for p in timeline_of(analysis)
                  if p.top is not None and p.top[0] != analysis.background]

        def is_action(i: int) -> bool:
            span = analysis.windows[i].span
            inside = sum(max(0.0, min(a.end, span.end) - max(a.start, span.start)) for a in action)
            return inside > span.duration / 2

        return look_of([w.features for w in analysis.windows], model, is_action)

    def _reader(self, path: str, info: Any, short_side: int | None) -> Any:
        """The parallel decoders of this video at one size (kept for the extra windows)."""
        from phar_cli.media.window_frames import WindowFrames

        if short_side not in self._readers:
            self._readers[short_side] = WindowFrames(path, short_side=short_side, info=info,
                                                     eye=self._eye, workers=self.decode_workers)
        return self._readers[short_side]

    def describe(self, planned: bool = True) -> dict[str, Any]:
        o = self.options
        out = {
            "streams": list(o.streams), "device": self.device, "subclip_len": o.subclip_len,
            "weights": o.weights, "gates": vars(o.gates), "det_score_thr": o.det_score_thr,
            "pose_backend": o.pose_backend,
            "models": {name: {"config": str(f.config),
                              "checkpoint": str(f.checkpoint) if f.checkpoint else None}
                       for name, f in o.models.items()
                       if name in o.streams or (name in pose_model_names(o.pose_backend)
                                                and "skeleton" in o.streams)},
            "fusion_rule": o.fusion_rule,
        }
        if o.profile != DEFAULT_PROFILE:
            out["profile"] = o.profile
        if o.temperatures:
            out["calibration"] = {"temperature": dict(o.temperatures)}
        if o.background in self.analysis_labels or o.content:  # the models', or the content's
            out["background"] = o.background
        if o.stride:
            out["stride"] = o.stride
        if planned and o.refine:
            out["refine"] = {"resolution": o.resolution, "snap_to_cuts": o.snap_to_cuts,
                             "min_part": o.min_part}
        # Speed options that change scores are recorded only when used, so a default analysis
        # writes the same file as before they existed.
        for name, default in SCORE_CHANGING_SPEED_OPTIONS.items():
            if getattr(o, name) != default:
                out[name] = getattr(o, name)
        return out

    # -- streams ------------------------------------------------------------------------------

    def _run_content(self, path: str, info: Any, progress: Progress) -> Content:
        """open_nsfw on one frame every 1/fps seconds, decoded at the model's input size from
        the decoders the other streams share, in runs of frames (`models/content.py`)."""
        from phar_cli.models.content import BATCH, INPUT_SHORT_SIDE, PREPARE_THREADS

        settings = self.options.content_settings
        model = self.model("content")
        reader = self._reader(path, info, INPUT_SHORT_SIDE)
        times = sample_times(info.duration, settings.fps)
        rate = float(info.fps)
        frames = np.minimum([int(t * rate) for t in times], max(info.frame_count - 1, 0))
        requests = [(s, frames[s:s + BATCH]) for s in range(0, len(frames), BATCH)]
        scores: list[float] = []
        with ThreadPoolExecutor(PREPARE_THREADS, thread_name_prefix="phar-content") as pool:
            for _, batch in reader.frames(requests):
                scores += model.scores(batch, pool=pool).tolist()
                progress("content", len(scores), len(times))
        know = self.options.background in self.analysis_labels
        return content_of(times, scores, info.duration, settings, models_know_background=know)

    def _run_rgb(self, path, info, spans, wanted, progress, features) -> dict[int, Scores]:
        from phar_cli.media.decode import window_frame_range
        from phar_cli.models.recognizer import with_frames

        if not wanted:
            return {}
        rec = self.model("rgb")
        reader = self._reader(path, info, rec.short_side)

        requests = []
        for i in wanted:
            span = spans[i]
            start, end = window_frame_range(span, info.fps, info.frame_count)
            sample = rec.sample(end - start)
            requests.append(((i, sample), sample["frame_inds"] + start))

        def samples() -> Iterator[tuple[int, dict[str, Any]]]:  # on the decode thread
            for (i, sample), frames in reader.frames(requests):
                yield i, rec.prepare(with_frames(sample, frames))

        return self._predict("rgb", rec, self._ahead(samples()), len(wanted), progress, features)

    def _run_skeleton(self, path, info, spans, wanted, extras, progress,
                      gated=True, posed=()) -> dict[int, Scores]:
        """PoseC3D on the `wanted` windows; poses found on those and the `posed` ones, and on
        both kept for the change finder when `posed` is given."""
        from phar_cli.media.decode import window_frame_range
        from phar_cli.models.recognizer import with_poses

        keeping, scored = bool(posed), set(wanted)
        wanted = sorted(scored | set(posed))
        if not wanted:
            return {}
        rec = self.model("skeleton")
        estimator = self.model("poses")
        reader = self._reader(path, info, None)
        gates = self.options.gates

        requests, start_of = [], {}
        for i in wanted:
            start, end = window_frame_range(spans[i], info.fps, info.frame_count)
            start_of[i] = start
            sample = rec.sample(end - start)
            # Detection and pose run only on the frames PoseC3D samples.
            unique = np.unique(sample["frame_inds"])
            requests.append(((i, end - start, sample, unique), unique + start))

        def samples(pool: ThreadPoolExecutor) -> Iterator[tuple[int, Future]]:
            done = 0
            for (i, length, sample, unique), frames, keypoints, scores in self._posed(
                    reader, estimator, requests, pool):
                done += 1
                progress("poses", done, len(wanted))
                if keeping and keypoints.shape[0]:
                    self._keep_poses(unique + start_of[i], info.fps, keypoints, scores)
                if i not in scored:
                    continue
                quality = pose_quality(scores, gates.pose_score_thr)
                extras[i]["pose_quality"] = round(quality, 4)
                extras[i]["people"] = int(keypoints.shape[0])
                if keypoints.shape[0] == 0 or (gated and quality < gates.correct_rate):
                    continue
                with_poses(sample, keypoints, scores, unique, length, frames.shape[1:3])
                # heatmaps while the next window runs
                yield i, pool.submit(rec.prepare, sample)

        with ThreadPoolExecutor(1, thread_name_prefix="phar-prepare") as pool:
            return self._predict("skeleton", rec, samples(pool), len(scored), progress)

    def _posed(self, reader: Any, estimator: Any, requests: list[tuple[Any, np.ndarray]],
               pool: ThreadPoolExecutor) -> Iterator[tuple[Any, np.ndarray, np.ndarray,
                                                         np.ndarray]]:
        """(key, frames, keypoints (M, T, 17, 2), scores (M, T, 17)) of each (key, frame
        indices) request, in order; a key's last item is its frames' positions (for tracking)."""
        # Requests grouped so the front end gets full batches; full-size frames are large, so a
        # group is bounded in bytes as the decoders' chunks are.
        every = max(self.options.det_every, self.options.pose_every)  # frames a find
        frames_wanted = int(getattr(estimator, "batch_size", 1)) * every
        for group in pose_groups(reader.frames(requests), frames_wanted,
                                 reader.in_flight_bytes // 2):
            people = group_poses(estimator, [(frames, key[-1]) for key, frames in group], pool,
                                 max_people=self.options.max_people,
                                 det_every=self.options.det_every,
                                 pose_every=self.options.pose_every)
            for (key, frames), (keypoints, scores) in zip(group, people):
                yield key, frames, keypoints, scores

    def _keep_poses(self, frames: np.ndarray, fps: float, keypoints: np.ndarray,
                    scores: np.ndarray) -> None:
        """The surest person's pose on each of a window's posed frames, for `_pose_changes`."""
        self._poses.append((np.asarray(frames, float) / fps, *surest(keypoints, scores)))

    def _pose_changes(self, path: str, info: Any) -> list[Change]:
        """Where the people's movement changes: found in the poses the grid's windows extracted,
        then each placed on poses found `CLOSER_FPS` times a second around it (the grid's are
        too sparse to place it to a second)."""
        if not self._poses:
            return []
        times, keypoints, scores = (np.concatenate(part) for part in zip(*self._poses))
        found = pose_changes(times, keypoints, scores, duration=info.duration)
        if not found:
            return []
        step = max(1, round(float(info.fps) / CLOSER_FPS))
        requests = []
        for change in found:
            lo = max(0, int((change.time - MOVING_HALF) * info.fps))
            hi = min(int(info.frame_count), int((change.time + MOVING_HALF) * info.fps) + 1)
            positions = np.arange(lo, hi, step)
            requests.append(((change, positions / info.fps, positions - lo), positions))
        out = []
        with ThreadPoolExecutor(1, thread_name_prefix="phar-pose") as pool:
            for (change, times, _), _, keypoints, scores in self._posed(
                    self._reader(path, info, None), self.model("poses"), requests, pool):
                if keypoints.shape[0]:
                    change = placed(change, times, *surest(keypoints, scores))
                out.append(change)
        return out

    def _run_audio(self, path, info, spans, wanted, rgb, extras, progress,
                   gated=True) -> dict[int, Scores]:
        from phar_cli.media.audio import integrated_loudness, log_mel, window_waveforms
        from phar_cli.media.decode import window_frame_range
        from phar_cli.models.recognizer import audio_params

        if not wanted:
            return {}
        rec = self.model("audio")
        params = audio_params(rec)
        sr = params["sample_rate"]
        gates = self.options.gates

        def samples() -> Iterator[tuple[int, dict[str, Any]]]:  # on the decode thread
            for i, part in window_waveforms(path, [spans[i] for i in wanted], sample_rate=sr):
                i = wanted[i]
                span = spans[i]
                loudness = integrated_loudness(part, sr)
                extras[i]["loudness"] = round(float(loudness), 2) if np.isfinite(loudness) else None
                threshold_ok = (loud_enough(loudness, rgb[i], gates) if i in rgb
                                else loudness >= gates.loudness_thr)
                if gated and not threshold_ok:
                    continue
                # Features per window, as the seed built them per clip (RMS-normalised per clip).
                # As in mmaction2's AudioDataset, clips are sampled over the window's video frames
                # and mapped onto the feature frames (`length`) by AudioFeatureSelector.
                feats = log_mel(part, **params)
                start, end = window_frame_range(span, info.fps, info.frame_count)
                frames = end - start
                sample = rec.sample(frames)
                clip = int(sample["clip_len"]) * int(sample.get("frame_interval", 1))
                if len(feats) and frames < clip:
                    # A window shorter than one clip (a short part, a low frame rate): its sound
                    # repeated to a clip, as the sampler repeats its frames; else the clip's
                    # frame indices wrap and select no sound at all.
                    repeats = -(-clip // frames)
                    feats, frames = np.tile(feats, (repeats, 1)), frames * repeats
                    sample = rec.sample(frames)
                sample.update(audios=feats, length=len(feats), total_frames=frames)
                yield i, rec.prepare(sample)

        return self._predict("audio", rec, self._ahead(samples()), len(wanted), progress)

    def _ahead(self, items: Iterable[T]) -> Iterator[T]:
        """`items` made on the decode thread, a batch and more ahead of the model (small windows:
        the model should never wait for the next batch)."""
        depth = self.options.prefetch
        return prefetch(items, max(depth, self.batch_size) if depth > 0 else 0)

    def _predict(self, stream: str, rec: Any, items: Iterable[tuple[int, Any]], total: int,
                 progress: Progress, features: dict[int, np.ndarray] | None = None,
                 ) -> dict[int, Scores]:
        """Batches of prepared windows (or futures of them) through one model; `features`
        gets each window's pooled features where the model has them."""
        out: dict[int, Scores] = {}
        batch: list[tuple[int, Any]] = []

        def flush() -> None:
            probs = rec.forward([p.result() if isinstance(p, Future) else p for _, p in batch])
            for (i, _), row in zip(batch, probs):
                out[i] = ranked(list(zip(rec.labels, (float(p) for p in row))))
            if features is not None and rec.last_features is not None:
                features.update((i, row) for (i, _), row in zip(batch, rec.last_features))
            batch.clear()
            progress(stream, len(out), total)

        for item in items:
            batch.append(item)
            if len(batch) >= self.batch_size:
                flush()
        if batch:
            flush()
        progress(stream, total, total)
        return out


def analysis_labels(labels: dict[str, list[str]], streams: Iterable[str]) -> list[str]:
    """An analysis' labels: the RGB model's, else every stream's in stream order."""
    if "rgb" in labels:
        return labels["rgb"]
    merged: list[str] = []
    for stream in streams:
        merged += [lab for lab in labels[stream] if lab not in merged]
    return merged


def surest(keypoints: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pose (T, 17, 2) and scores (T, 17) of the surest of the people (M, T, ...) on each
    frame."""
    best = scores.mean(axis=2).argmax(axis=0)
    at = np.arange(keypoints.shape[1])
    return keypoints[best, at], scores[best, at]


def _silent(step: str, done: int, total: int) -> None:
    """Progress of the extra windows goes to the 'refine' step, not to the streams' bars."""


def _signal_changes(path: str, info: Any) -> tuple[list[float], list[Change], list[Change]]:
    """The shot cuts, the changes of sound or picture, and those of where the picture moves,
    from one low-resolution pass over the picture and one over the sound (`core/changes.py`)."""
    from phar_cli.media.audio import sound_blocks
    from phar_cli.media.scenes import scan_picture

    picture = scan_picture(path, info)
    sound = sound_blocks(path, info.duration, block=BLOCK) if info.has_audio else None
    changes = change_points(sound.level_db if sound else None, sound.spectrum if sound else None,
                            picture.times, picture.motion, duration=info.duration, block=BLOCK)
    moved = layout_changes(picture.times, picture.layout, duration=info.duration, block=BLOCK)
    return picture.cuts, changes, moved


def prefetch(items: Iterable[T], depth: int) -> Iterator[T]:
    """Yield from `items`, produced on a worker thread up to `depth` ahead (errors re-raised here)."""
    if depth <= 0:
        yield from items
        return
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                q.put(("item", item))
            q.put(("done", done))
        except BaseException as ex:  # noqa: BLE001 - handed to the consumer
            q.put(("error", ex))

    thread = threading.Thread(target=work, daemon=True, name="phar-decode")
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)
