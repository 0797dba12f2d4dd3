"""The four measurements of `bench_pipeline.py`, each on the same video, models and windows.

- decode: the media work alone: the frames each stream samples, at the size the engine decodes
  them (RGB at the model's short side, skeleton frames at full size), and the audio features.
- model: the forward passes alone, the same ones the whole run makes (same windows, batches,
  frames and boxes); their inputs are made untimed (their cost is reported as `prep`).
- whole: `Engine.analyse`, what `phar timestamps` runs.
- seed: the seed's way: the whole video re-encoded, each 7 s subclip re-encoded to disk, its
  frames written as JPEGs and read back, detection one frame at a time and pose on every box of
  every frame, audio extracted to a WAV per subclip, then the same three models.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np

from phar_cli.core.engine import Engine
from phar_cli.models.recognizer import audio_params, with_frames, with_poses
from phar_cli.core.skeleton import group_poses, pose_groups
from phar_cli.core.windows import plan_windows
from phar_cli.media.audio import integrated_loudness, log_mel, window_waveforms
from phar_cli.media.decode import FrameReader, window_frame_range
from phar_cli.media.window_frames import WindowFrames
from phar_cli.media.ffmpeg import run_ffmpeg
from phar_cli.media.probe import probe


class Timers:
    """Seconds summed per name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start


class PeakRSS:
    """Peak resident memory of this process during a block (resets the kernel's high-water
    mark first, so each stage gets its own peak)."""

    def __enter__(self) -> "PeakRSS":
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")
        self.mib = 0.0
        return self

    def __exit__(self, *exc: Any) -> None:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                self.mib = int(line.split()[1]) / 1024


class Serial(Executor):
    """Runs each call on one helper thread and waits for it: pre-processing is then timed apart
    from the forwards (never overlapped) yet, as in the engine, off the models' thread (on 2
    cores, mmdet's pre-processing on the model's own thread made the next forwards ~40% slower)."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(1, thread_name_prefix="bench-prep")

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future = self._pool.submit(fn, *args, **kwargs)
        future.result()
        return future


class TimedEstimator:
    """The two-stage pose backend with its pre-processing and its forwards timed apart."""

    def __init__(self, estimator: Any, timers: Timers) -> None:
        self._e, self._t = estimator, timers
        self.batch_size = estimator.batch_size

    def det_inputs(self, frames):
        with self._t("prep"):
            return self._e.det_inputs(frames)

    def det_forward(self, inputs):
        with self._t("model.det"):
            out = self._e.det_forward(inputs)
        self._t.seconds["count.det_frames"] += len(inputs)
        return out

    def pose_inputs(self, frames, items):
        with self._t("prep"):
            return self._e.pose_inputs(frames, items)

    def pose_forward(self, inputs):
        with self._t("model.pose"):
            out = self._e.pose_forward(inputs)
        self._t.seconds["count.pose_boxes"] += len(inputs)
        return out


class TimedOneStep:
    """A one-step pose backend (RTMO) with its pre-processing and its forwards timed apart."""

    def __init__(self, estimator: Any, timers: Timers) -> None:
        self._e, self._t = estimator, timers
        self.batch_size = estimator.batch_size

    def frame_inputs(self, frames):
        with self._t("prep"):
            return self._e.frame_inputs(frames)

    def frame_forward(self, inputs):
        with self._t("model.poses"):
            out = self._e.frame_forward(inputs)
        self._t.seconds["count.pose_frames"] += len(inputs)
        return out


def timed_estimator(estimator: Any, timers: Timers) -> Any:
    """The pose backend wrapped so `group_poses` takes the same path through it, timed."""
    if hasattr(estimator, "det_forward"):
        return TimedEstimator(estimator, timers)
    if hasattr(estimator, "frame_forward"):
        return TimedOneStep(estimator, timers)

    def call(frames):  # a backend without pre-processing apart (markers): all of it is model
        with timers("model.poses"):
            return estimator(frames)
    return call


FORWARDS = ("forward", "frame_forward", "det_forward", "pose_forward")


class GpuBusy:
    """The GPU's time in the models' forwards during a block: a CUDA event pair recorded around
    each forward on the current stream, summed after the block (so an upper bound: a forward's
    own CPU-side gaps count as busy). `seconds` is None off CUDA."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seconds: float | None = None
        self._events: list[tuple[Any, Any]] = []
        self._patched: list[tuple[Any, str]] = []

    def __enter__(self) -> "GpuBusy":
        if not self.engine.device.startswith("cuda"):
            return self
        names = list(stream_names(self.engine))
        if "skeleton" in names:
            names.append("poses")
        for name in names:
            model = self.engine.model(name)
            for method in FORWARDS:
                if hasattr(model, method):
                    setattr(model, method, self._timed(getattr(model, method)))
                    self._patched.append((model, method))
        return self

    def _timed(self, forward: Callable[..., Any]) -> Callable[..., Any]:
        import torch

        def timed(*args: Any, **kwargs: Any) -> Any:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            try:
                return forward(*args, **kwargs)
            finally:
                end.record()
                self._events.append((start, end))
        return timed

    def __exit__(self, *exc: Any) -> None:
        for model, method in self._patched:
            delattr(model, method)  # the instance attribute: the class's method shows again
        if self._patched:
            import torch

            torch.cuda.synchronize()
            self.seconds = sum(a.elapsed_time(b) for a, b in self._events) / 1000.0


def stream_names(engine: Engine) -> tuple[str, ...]:
    return engine.options.streams


def frame_requests(engine: Engine, info: Any, spans: list, stream: str) -> list:
    """(window, frame indices) of every window, as the engine asks its decoders for them: RGB's
    sampled frames, the skeleton's unique sampled frames (the pose front end's)."""
    rec = engine.model(stream)
    out = []
    for i, span in enumerate(spans):
        start, end = window_frame_range(span, info.fps, info.frame_count)
        sample = rec.sample(end - start)
        indices = sample["frame_inds"] if stream == "rgb" else np.unique(sample["frame_inds"])
        out.append(((i, sample, end - start), indices + start))
    return out


def window_frames(engine: Engine, video: str, info: Any, stream: str,
                  workers: int | None = None) -> WindowFrames:
    """The engine's parallel decoders of one stream's frames (RGB at the model's short side,
    the skeleton's at full size)."""
    short_side = engine.model("rgb").short_side if stream == "rgb" else None
    return WindowFrames(video, short_side=short_side, info=info, eye=None,
                        workers=workers or engine.decode_workers)


def decode_only(engine: Engine, video: str) -> dict[str, float]:
    """The frames and audio features the streams need, nothing else, with the engine's decoders."""
    info, timers = probe(video), Timers()
    spans = plan_windows(info.duration, engine.options.subclip_len)
    streams = stream_names(engine)
    for stream in ("rgb", "skeleton"):
        if stream in streams:
            with timers(f"decode.{stream}"):
                requests = frame_requests(engine, info, spans, stream)
                for _ in window_frames(engine, video, info, stream).frames(requests):
                    pass
    if "audio" in streams and info.has_audio:
        params = audio_params(engine.model("audio"))
        with timers("decode.audio"):
            for _, part in window_waveforms(video, spans, params["sample_rate"]):
                integrated_loudness(part, params["sample_rate"])
                log_mel(part, **params)
    return dict(timers.seconds)


def decode_scaling(engine: Engine, video: str, worker_counts: list[int]) -> dict[str, dict]:
    """Frames/s the decoders hand over, per stream and per number of workers (each count on the
    same windows, one after the other)."""
    info = probe(video)
    spans = plan_windows(info.duration, engine.options.subclip_len)
    out: dict[str, dict] = {}
    for stream in ("rgb", "skeleton"):
        if stream not in stream_names(engine):
            continue
        requests = frame_requests(engine, info, spans, stream)
        for workers in worker_counts:
            decoder = window_frames(engine, video, info, stream, workers)
            started = time.perf_counter()
            for _ in decoder.frames(requests):
                pass
            seconds = time.perf_counter() - started
            out.setdefault(str(workers), {})[stream] = {
                "frames": decoder.frames_decoded, "seconds": round(seconds, 3),
                "frames_per_s": round(decoder.frames_decoded / max(seconds, 1e-9), 1)}
    return out


def model_only(engine: Engine, video: str) -> dict[str, float]:
    """The whole run's forward passes on inputs made beforehand (untimed for `model.*`)."""
    info, timers = probe(video), Timers()
    o = engine.options
    spans = plan_windows(info.duration, o.subclip_len)
    batch = engine.batch_size
    serial = Serial()

    def run_batches(name: str, rec: Any, items: Iterator[Any]) -> None:
        pending: list[Any] = []
        for item in items:
            pending.append(item)
            if len(pending) == batch:
                with timers(f"model.{name}"):
                    rec.forward(pending)
                timers.seconds[f"count.{name}"] += len(pending)
                pending = []
        if pending:
            with timers(f"model.{name}"):
                rec.forward(pending)
            timers.seconds[f"count.{name}"] += len(pending)

    def prepared(rec: Any, samples: Iterator[dict[str, Any]]) -> Iterator[Any]:
        for sample in samples:
            with timers("prep"):
                item = serial.submit(rec.prepare, sample).result()
            yield item

    if "rgb" in o.streams:
        rec = engine.model("rgb")
        decoder = window_frames(engine, video, info, "rgb")

        def rgb_samples() -> Iterator[dict[str, Any]]:
            for (_, sample, _), frames in decoder.frames(frame_requests(engine, info, spans,
                                                                        "rgb")):
                yield with_frames(sample, frames)
        run_batches("rgb", rec, prepared(rec, rgb_samples()))
    if "skeleton" in o.streams:
        rec = engine.model("skeleton")
        estimator = timed_estimator(engine.model("poses"), timers)
        decoder = window_frames(engine, video, info, "skeleton")
        wanted = max(o.det_every, o.pose_every) * int(getattr(estimator, "batch_size", 1))

        def skeleton_samples() -> Iterator[dict[str, Any]]:
            # the engine's groups of windows through the front end (decoded as they are needed:
            # full-size frames of a whole video would not fit in memory)
            for group in pose_groups(decoder.frames(frame_requests(engine, info, spans,
                                                                   "skeleton")),
                                     wanted, decoder.in_flight_bytes // 2):
                # det/pose inputs count as prep, their forwards as model (tracking: neither)
                people = group_poses(estimator, [(f, np.unique(s["frame_inds"]))
                                                 for (_, s, _), f in group], serial,
                                     max_people=o.max_people, det_every=o.det_every,
                                     pose_every=o.pose_every)
                for ((_, sample, length), frames), (kp, sc) in zip(group, people):
                    if kp.shape[0]:
                        yield with_poses(sample, kp, sc, np.unique(sample["frame_inds"]),
                                         length, frames.shape[1:3])
        run_batches("skeleton", rec, prepared(rec, skeleton_samples()))
    if "audio" in o.streams and info.has_audio:
        rec = engine.model("audio")
        params = audio_params(rec)

        def audio_samples() -> Iterator[dict[str, Any]]:
            for i, part in window_waveforms(video, spans, params["sample_rate"]):
                feats = log_mel(part, **params)
                start, end = window_frame_range(spans[i], info.fps, info.frame_count)
                sample = rec.sample(end - start)
                sample.update(audios=feats, length=len(feats), total_frames=end - start)
                yield sample
        run_batches("audio", rec, prepared(rec, audio_samples()))
    return dict(timers.seconds)


def whole(engine: Engine, video: str) -> tuple[dict[str, float], Any]:
    """`Engine.analyse`, with each stream's span of wall time from its progress reports."""
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    t0 = time.perf_counter()

    def progress(step: str, done: int, total: int) -> None:
        now = time.perf_counter() - t0
        first.setdefault(step, now)
        last[step] = now

    analysis = engine.analyse(video, progress)
    seconds = {"whole": time.perf_counter() - t0}
    # The streams run one after the other (poses inside the skeleton's time): each one's wall
    # time is from the end of the one before to its last report.
    before = 0.0
    for stream in ("content", "rgb", "skeleton", "audio"):
        if stream in last:
            seconds[f"stream.{stream}"] = last[stream] - before
            before = last[stream]
    return seconds, analysis


def warm_up(engine: Engine, video: str) -> float:
    """One window through everything first, so no stage pays the first call's setup (lazy
    imports, oneDNN kernel choices, the mel filter bank)."""
    info = probe(video)
    started = time.perf_counter()
    with without_content_gate(engine):  # a window the gate skips would warm no model
        engine.analyse(video, spans=plan_windows(info.duration, engine.options.subclip_len)[:1])
    return time.perf_counter() - started


@contextlib.contextmanager
def without_content_gate(engine: Engine) -> Iterator[None]:
    """The engine with the content gate off for a while (every window to the action models)."""
    gate = engine.options.content_gate
    engine.options.content_gate = False
    try:
        yield
    finally:
        engine.options.content_gate = gate


# -- the seed's way --------------------------------------------------------------------------

def seed_style(engine: Engine, video: str, workdir: Path, windows: int | None) -> dict[str, Any]:
    """The seed's pipeline on the first `windows` windows (None: all), with the same models.

    Per subclip, as the seed's demo did it: ffmpeg re-encodes the subclip to disk (after one
    re-encode of the whole video, moviepy's resize), every frame is written as a JPEG and read
    back, the person detector sees one frame at a time, the pose model every box of a frame,
    PoseC3D all those poses (no tracking, as many people as were found), the RGB model decodes
    the subclip file, the audio model the subclip's audio written as a WAV.
    """
    import cv2

    info, timers = probe(video), Timers()
    o = engine.options
    spans = plan_windows(info.duration, o.subclip_len)
    todo = spans if windows is None else spans[:windows]
    workdir.mkdir(parents=True, exist_ok=True)
    resized = workdir / "resized.mp4"
    with timers("seed.reencode_video"):
        run_ffmpeg(["-y", "-loglevel", "error", "-i", video, "-c:v", "libx264", "-c:a", "aac",
                    str(resized)], "re-encoding the video")
    started = time.perf_counter()
    for n, span in enumerate(todo):
        clip = workdir / f"clip{n:04d}.mp4"
        with timers("seed.subclips"):
            run_ffmpeg(["-y", "-loglevel", "error", "-ss", f"{span.start}", "-t",
                        f"{span.end - span.start}", "-i", str(resized), "-c:v", "libx264",
                        "-c:a", "aac", str(clip)], "cutting a subclip")
        clip_info = probe(str(clip))
        if "rgb" in o.streams:
            rec = engine.model("rgb")
            with timers("seed.rgb"):
                reader = FrameReader(str(clip), info=clip_info)  # full size; the pipeline resizes
                sample = rec.sample(len(reader))
                frames = reader.frames(sample["frame_inds"])
                rec.forward([rec.prepare(with_frames(sample, frames))])
        if "skeleton" in o.streams:
            with timers("seed.skeleton"):
                _seed_skeleton(engine, str(clip), clip_info, workdir / f"frames{n:04d}", cv2,
                               timers)
        if "audio" in o.streams and info.has_audio:
            with timers("seed.audio"):
                wav = workdir / f"clip{n:04d}.wav"
                run_ffmpeg(["-y", "-loglevel", "error", "-i", str(clip), "-vn", "-ac", "1", "-ar",
                            "16000", str(wav)], "extracting audio")
                rec = engine.model("audio")
                params = audio_params(rec)
                import soundfile

                part, _ = soundfile.read(str(wav), dtype="float32")
                integrated_loudness(part, params["sample_rate"])
                feats = log_mel(part, **params)
                sample = rec.sample(clip_info.frame_count)
                sample.update(audios=feats, length=len(feats), total_frames=clip_info.frame_count)
                rec.forward([rec.prepare(sample)])
    seconds = dict(timers.seconds)
    per_window = (time.perf_counter() - started) / len(todo)
    seconds["seed.per_window"] = per_window
    seconds["seed"] = seconds["seed.reencode_video"] + per_window * len(spans)
    return {"seconds": seconds, "windows_measured": len(todo), "windows": len(spans),
            "extrapolated": len(todo) < len(spans)}


def _seed_skeleton(engine: Engine, clip: str, clip_info: Any, frame_dir: Path, cv2: Any,
                   timers: Timers) -> None:
    rec, estimator = engine.model("skeleton"), engine.model("poses")
    frame_dir.mkdir(exist_ok=True)
    reader = FrameReader(clip, info=clip_info)
    paths = []
    for k in range(len(reader)):  # the seed's frame_extraction: every frame to a JPEG
        path = frame_dir / f"img_{k:05d}.jpg"
        cv2.imwrite(str(path), reader.frames([k])[0][..., ::-1])
        paths.append(path)
    people: list[tuple[np.ndarray, np.ndarray]] = []
    for path in paths:
        frame = cv2.imread(str(path))[..., ::-1][None]
        with timers("seed.model.det"):
            boxes = estimator.det_forward(estimator.det_inputs(frame))[0]
        if len(boxes):
            with timers("seed.model.pose"):
                kp, sc = estimator.pose_forward(
                    estimator.pose_inputs(frame, [(0, b) for b in boxes]))
        else:
            kp, sc = np.zeros((0, 17, 2), np.float32), np.zeros((0, 17), np.float32)
        people.append((kp, sc))
    total = len(paths)
    m = max((len(kp) for kp, _ in people), default=0)
    if m == 0:
        return
    keypoint = np.zeros((m, total, 17, 2), np.float32)
    score = np.zeros((m, total, 17), np.float32)
    for t, (kp, sc) in enumerate(people):
        keypoint[:len(kp), t], score[:len(kp), t] = kp, sc
    sample = with_poses(rec.sample(total), keypoint, score, np.arange(total), total,
                        (clip_info.height, clip_info.width))
    rec.forward([rec.prepare(sample)])


def load_average() -> float:
    return os.getloadavg()[0]


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def cpu_flags() -> list[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = line.split(":", 1)[1].split()
            return [f for f in flags if f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16")]
    return []


def ffmpeg_version() -> str:
    from phar_cli.media.ffmpeg import ffmpeg_exe

    out = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "unknown"

