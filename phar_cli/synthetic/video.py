"""Abstract synthetic media for tests and demos: coloured backgrounds, a moving disc, sine tones,
optionally a stick figure with coloured joints (`phar_cli.synthetic.figure`).

Why: tests need videos of known content (which scene is where, which colour sits in which corner,
how loud each part is) at any fps, size, rotation and container, without shipping media files.
Frames are drawn in numpy and piped to ffmpeg as rawvideo; nothing but the output file (and a
temporary raw audio file while encoding) touches the disk.

Every frame carries a small white square in its top-left *display* corner, so orientation can be
checked after rotation. With `rotation=r` the stored (coded) frames are turned r degrees
counter-clockwise and tagged with a clockwise display rotation of r, so a player (and
`FrameReader`) shows them upright again.
"""
from __future__ import annotations

import functools
import math
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from phar_cli.errors import FFmpegError
from phar_cli.media.ffmpeg import ffmpeg_cmd, run_ffmpeg, stderr_tail
from phar_cli.synthetic.figure import Figure, as_figure, draw_figure

COLORS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0), "white": (255, 255, 255), "gray": (128, 128, 128),
    "red": (220, 30, 30), "green": (30, 180, 60), "blue": (30, 60, 220),
    "yellow": (230, 210, 40), "cyan": (40, 200, 210), "magenta": (200, 40, 200),
    "orange": (240, 140, 20), "purple": (120, 50, 170),
}
MOTIONS = ("left-right", "up-down", "circle", "still")
MARKER = (255, 255, 255)
AUDIO_RATE = 48000

Color = tuple[int, int, int] | str


@dataclass(frozen=True)
class Scene:
    """One part of a synthetic video: a background colour, a moving disc and a tone.

    `loudness_db` is the sine's peak level in dBFS (0 = full scale); `tone_hz=None` is silence.
    `noise_db`, if set, adds white noise at that RMS level in dBFS. `pulse_hz`, if set, turns the
    tone on and off that many times a second (a raised-cosine envelope, peak `loudness_db`).
    `phase` shifts the disc's clock (s). `figure` adds a stick figure on top: a figure motion
    name or a `Figure` (placement, scale, its own phase).
    """

    duration: float
    color: Color = "blue"
    motion: str = "left-right"
    tone_hz: float | None = 440.0
    loudness_db: float = -20.0
    shape_color: Color | None = None
    noise_db: float | None = None
    figure: Figure | str | None = None
    pulse_hz: float | None = None
    phase: float = 0.0

    def __post_init__(self) -> None:
        if self.duration <= 0:
            raise ValueError(f"scene duration must be positive: {self.duration}")
        if self.motion not in MOTIONS:
            raise ValueError(f"unknown motion {self.motion!r}; one of {', '.join(MOTIONS)}")
        rgb(self.color)
        if self.shape_color is not None:
            rgb(self.shape_color)
        if self.figure is not None:
            as_figure(self.figure)
        if self.pulse_hz is not None and self.pulse_hz <= 0:
            raise ValueError(f"pulse_hz must be positive: {self.pulse_hz}")


def rgb(color: Color) -> tuple[int, int, int]:
    if isinstance(color, str):
        try:
            return COLORS[color]
        except KeyError:
            raise ValueError(f"unknown colour {color!r}; one of {', '.join(COLORS)}") from None
    r, g, b = (int(c) for c in color)
    if not all(0 <= c <= 255 for c in (r, g, b)):
        raise ValueError(f"colour out of range: {color}")
    return r, g, b


def make_video(path: str | os.PathLike[str], duration: float | None = None, *,
               fps: float | Fraction | str = 30, size: tuple[int, int] = (320, 240),
               audio: bool = True, rotation: int = 0, segments: Sequence[Scene] | None = None,
               codec: str = "libx264", seed: int = 0, crf: int | None = None) -> Path:
    """Write a synthetic video to `path` (container from the extension: .mp4, .mkv, ...).

    `size` is the display (width, height); `duration` may be left out when `segments` are given
    (then it is their total); `seed` drives the scenes' noise, everything else is fixed.
    `crf` sets libx264's quality (lower = closer to the drawn colours; its default is 23).
    Returns the path.
    """
    path = Path(path)
    fps = Fraction(fps).limit_denominator(100000) if not isinstance(fps, Fraction) else fps
    if fps <= 0:
        raise ValueError(f"fps must be positive: {fps}")
    if rotation % 90 or rotation not in (0, 90, 180, 270):
        raise ValueError(f"rotation must be 0, 90, 180 or 270: {rotation}")
    scenes = _scenes(duration, segments)
    total = sum(s.duration for s in scenes)
    width, height = size
    if width % 2 or height % 2 or width < 16 or height < 16:
        raise ValueError(f"size must be even and at least 16x16: {size}")
    n_frames = max(1, round(total * fps))

    with tempfile.TemporaryDirectory(prefix="phar-synth-") as tmp:
        args = ["-y", "-loglevel", "error"]
        coded_w, coded_h = (height, width) if rotation in (90, 270) else (width, height)
        if rotation:
            args += _rotation_input_args(rotation)
        args += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{coded_w}x{coded_h}",
                 "-framerate", f"{fps.numerator}/{fps.denominator}", "-i", "-"]
        if audio:
            raw = Path(tmp) / "audio.f32"
            _audio(scenes, seed).tofile(raw)
            args += ["-f", "f32le", "-ar", str(AUDIO_RATE), "-ac", "1", "-i", f"file:{raw}"]
        args += ["-map", "0:v:0", "-c:v", codec, "-pix_fmt", "yuv420p"]
        if codec == "libx264":
            args += ["-preset", "ultrafast", "-g", str(max(1, round(float(fps))))]
            if crf is not None:
                args += ["-crf", str(crf)]
        if audio:
            args += ["-map", "1:a:0", "-c:a", "aac", "-b:a", "96k", "-shortest"]
        if rotation and not _supports_display_rotation():
            args += ["-metadata:s:v:0", f"rotate={rotation}"]
        path.parent.mkdir(parents=True, exist_ok=True)
        args.append("file:" + os.path.abspath(path))  # a ':' or leading '-' stays a file name
        _encode(args, _frames(scenes, fps, n_frames, (width, height), rotation), path)
    return path


def _scenes(duration: float | None, segments: Sequence[Scene] | None) -> list[Scene]:
    if not segments:
        if duration is None or duration <= 0:
            raise ValueError("give a positive duration or some segments")
        return [Scene(duration)]
    total = sum(s.duration for s in segments)
    if duration is not None and abs(duration - total) > 1e-6:
        raise ValueError(f"duration {duration} differs from the segments' total {total}")
    return list(segments)


def _rotation_input_args(rotation: int) -> list[str]:
    if _supports_display_rotation():
        # -display_rotation is counter-clockwise; ours is clockwise, as players apply it.
        # -noautorotate keeps ffmpeg from turning the frames itself while encoding.
        return ["-noautorotate", "-display_rotation:v:0", str(-rotation)]
    return []


@functools.lru_cache(maxsize=1)
def _supports_display_rotation() -> bool:
    """ffmpeg 6.0+ sets a display matrix on input; older ones only know the `rotate` tag."""
    proc = run_ffmpeg(["-h", "full"], "ffmpeg -h full", check=False)
    return b"display_rotation" in proc.stdout


def _encode(args: list[str], frames, path: Path) -> None:
    proc = subprocess.Popen(ffmpeg_cmd(args), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        for frame in frames:
            proc.stdin.write(frame.tobytes())
        proc.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg stopped early; its stderr says why
    stderr = proc.stderr.read()
    if proc.wait() != 0:
        raise FFmpegError(f"{path}: writing synthetic video failed: {stderr_tail(stderr)}")


def _frames(scenes: list[Scene], fps: Fraction, n_frames: int, size: tuple[int, int],
            rotation: int):
    """Yield coded (stored) rgb24 frames, one per output frame."""
    width, height = size
    short = min(width, height)
    radius = max(3, short // 8)
    marker = max(2, short // 10)
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    disc = (xx * xx + yy * yy) <= radius * radius
    bounds = np.cumsum([s.duration for s in scenes])
    for i in range(n_frames):
        t = float(Fraction(i) / fps)
        k = min(int(np.searchsorted(bounds, t, side="right")), len(scenes) - 1)
        scene = scenes[k]
        local = t - (bounds[k] - scene.duration)
        frame = np.empty((height, width, 3), np.uint8)
        frame[:] = rgb(scene.color)
        cx, cy = _position(scene.motion, local + scene.phase, width, height, radius)
        shape = rgb(scene.shape_color) if scene.shape_color is not None else \
            tuple(255 - c for c in rgb(scene.color))
        y0, x0 = cy - radius, cx - radius
        patch = frame[y0:y0 + 2 * radius + 1, x0:x0 + 2 * radius + 1]
        patch[disc[:patch.shape[0], :patch.shape[1]]] = shape
        if scene.figure is not None:
            draw_figure(frame, as_figure(scene.figure).keypoints(local, (width, height)))
        frame[:marker, :marker] = MARKER
        yield np.ascontiguousarray(np.rot90(frame, k=rotation // 90)) if rotation else frame


def _position(motion: str, t: float, width: int, height: int, radius: int) -> tuple[int, int]:
    """Disc centre at scene-local time t: one full back-and-forth (or turn) every 2 s, starting
    at the left / top / right-middle."""
    span_x, span_y = width - 2 * radius - 2, height - 2 * radius - 2
    swing = 0.5 - 0.5 * math.cos(math.pi * t)
    if motion == "left-right":
        return radius + 1 + round(swing * span_x), height // 2
    if motion == "up-down":
        return width // 2, radius + 1 + round(swing * span_y)
    if motion == "circle":
        a = math.pi * t
        return (width // 2 + round(0.5 * span_x * math.cos(a)),
                height // 2 + round(0.5 * span_y * math.sin(a)))
    return width // 2, height // 2


def _audio(scenes: list[Scene], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = []
    for scene in scenes:
        n = round(scene.duration * AUDIO_RATE)
        t = np.arange(n) / AUDIO_RATE
        part = np.zeros(n)
        if scene.tone_hz:
            tone = 10 ** (scene.loudness_db / 20) * np.sin(2 * math.pi * scene.tone_hz * t)
            if scene.pulse_hz:
                tone *= 0.5 - 0.5 * np.cos(2 * math.pi * scene.pulse_hz * t)
            part += tone
        if scene.noise_db is not None:
            part += 10 ** (scene.noise_db / 20) * rng.standard_normal(n)
        parts.append(part)
    return np.clip(np.concatenate(parts), -1.0, 1.0).astype("<f4")
