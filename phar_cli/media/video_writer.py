"""Write a video from frames: RGB frames piped to one ffmpeg encoder, the source's audio muxed in.

Why a pipe: no frame files and no whole video in memory; memory stays flat with video length.
The original audio track is copied (not re-encoded) when the output container can hold its
codec, else re-encoded to the container's usual codec. The file appears under its name only
when ffmpeg finished: it is written to a temporary name beside it and renamed.
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from phar_cli.errors import FFmpegError, InvalidOption, UsageError
from phar_cli.media.ffmpeg import popen_ffmpeg, run_ffmpeg
from phar_cli.atomic import atomic_path

# output extension -> (ffmpeg muxer, audio codec used when the source's cannot be copied)
CONTAINERS: dict[str, tuple[str, str]] = {
    ".mp4": ("mp4", "aac"), ".m4v": ("mp4", "aac"), ".mov": ("mov", "aac"),
    ".mkv": ("matroska", "aac"), ".avi": ("avi", "libmp3lame"), ".webm": ("webm", "libopus"),
}
X26X_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                "slower", "veryslow", "placebo")
WEBM_VIDEO = ("libvpx", "libvpx-vp9", "libaom-av1", "libsvtav1", "librav1e")


@dataclass(frozen=True)
class EncoderOptions:
    """Video encoder settings; crf and preset apply to the encoders that know them."""

    codec: str = "libx264"
    crf: int = 20
    preset: str = "medium"

    def args(self, width: int, height: int) -> list[str]:
        args = ["-c:v", self.codec]
        if self.codec in ("libx264", "libx265"):
            args += ["-crf", str(self.crf), "-preset", self.preset]
        elif self.codec in ("libvpx", "libvpx-vp9", "libaom-av1"):
            args += ["-crf", str(self.crf), "-b:v", "0"]
        elif self.codec == "libsvtav1":
            args += ["-crf", str(self.crf)]
        # 4:2:0 needs even sizes; x264/x265 take an odd-sized frame in 4:4:4 instead of padding.
        odd = width % 2 or height % 2
        full = odd and self.codec in ("libx264", "libx265")
        args += ["-pix_fmt", "yuv444p" if full else "yuv420p"]
        return args


def container_of(path: str | os.PathLike[str]) -> tuple[str, str]:
    """(muxer, fallback audio codec) for an output path, or UsageError naming the extension."""
    suffix = Path(path).suffix.lower()
    try:
        return CONTAINERS[suffix]
    except KeyError:
        raise UsageError(f"{path}: unknown video container {suffix or '(no extension)'!r} "
                         f"(use {', '.join(CONTAINERS)})") from None


def check_encoder(options: EncoderOptions, output: str | os.PathLike[str]) -> None:
    """Refuse, before any work, an encoder this ffmpeg lacks or settings it would reject."""
    muxer, _ = container_of(output)
    if options.codec not in available_encoders():
        raise InvalidOption("codec", f"{options.codec}: this ffmpeg has no such video encoder")
    if options.codec in ("libx264", "libx265") and options.preset not in X26X_PRESETS:
        raise InvalidOption("preset", f"{options.preset}: use one of {', '.join(X26X_PRESETS)}")
    top = 51 if options.codec in ("libx264", "libx265") else 63
    if not 0 <= options.crf <= top:
        raise InvalidOption("crf", f"{options.crf}: {options.codec} takes 0 to {top}")
    if muxer == "webm" and options.codec not in WEBM_VIDEO:
        raise UsageError(f"{output}: WebM holds VP8/VP9/AV1 video; choose such a codec, e.g. libvpx-vp9")


@functools.lru_cache(maxsize=1)
def available_encoders() -> frozenset[str]:
    text = run_ffmpeg(["-encoders"], "ffmpeg -encoders").stdout.decode("utf-8", "replace")
    names = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return frozenset(names)


def audio_copy_possible(source: str | os.PathLike[str], muxer: str) -> bool:
    """Whether the source's first audio track can be stream-copied into `muxer`: a dry run on
    a tenth of a second (ffmpeg knows which codec each container accepts; we do not guess)."""
    with tempfile.TemporaryDirectory(prefix="phar-probe-") as tmp:
        proc = run_ffmpeg(["-y", "-loglevel", "error", "-i", "file:" + os.path.abspath(source),
                           "-map", "0:a:0", "-c:a", "copy", "-t", "0.1", "-f", muxer,
                           "file:" + os.path.join(tmp, "probe")], "audio copy check", check=False)
    return proc.returncode == 0


def sample_aspect_ratio(path: str | os.PathLike[str]) -> Fraction | None:
    """The first video stream's pixel aspect ratio (SAR), when it is not square: frames piped
    as raw RGB lose it, so the writer sets it again (anamorphic video keeps its shape)."""
    text = run_ffmpeg(["-i", "file:" + os.path.abspath(path)], "ffmpeg -i",
                      check=False).stderr.decode("utf-8", "replace")
    for line in text.splitlines():
        if "Video:" in line and "attached pic" not in line:
            match = re.search(r"\[SAR (\d+):(\d+) DAR", line)
            if match and int(match[1]) and int(match[2]) and match[1] != match[2]:
                return Fraction(int(match[1]), int(match[2]))
            return None
    return None


class VideoWriter:
    """Encode (H, W, 3) uint8 RGB frames at `fps` to `path`, with `audio_from`'s first audio track.

    Use as a context manager: the file is renamed into place when the block ends cleanly and
    removed when it raises. `audio` says what happened to the audio: 'copied', 're-encoded' or
    'none'.
    """

    def __init__(self, path: str | os.PathLike[str], width: int, height: int, fps: Fraction, *,
                 audio_from: str | os.PathLike[str] | None = None,
                 encoder: EncoderOptions = EncoderOptions(),
                 sar: Fraction | None = None) -> None:
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, Fraction(fps)
        self.audio_from = audio_from
        self.encoder = encoder
        self.sar = sar
        self.frames = 0
        self.audio = "none"
        self._stack = contextlib.ExitStack()
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> VideoWriter:
        muxer, fallback_audio = container_of(self.path)
        tmp = self._stack.enter_context(atomic_path(self.path))
        try:
            self._start(tmp, muxer, fallback_audio)
        except BaseException:
            self._stack.__exit__(*sys.exc_info())
            raise
        return self

    def _start(self, tmp: Path, muxer: str, fallback_audio: str) -> None:
        args = ["-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                "-s", f"{self.width}x{self.height}",
                "-framerate", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "pipe:0"]
        if self.audio_from is not None:
            args += ["-i", "file:" + os.path.abspath(self.audio_from)]
        args += ["-map", "0:v:0", *self.encoder.args(self.width, self.height)]
        if self.sar:
            args += ["-vf", f"setsar={self.sar.numerator}/{self.sar.denominator}:max=65535"]
        if self.audio_from is not None:
            if audio_copy_possible(self.audio_from, muxer):
                args += ["-map", "1:a:0", "-c:a", "copy"]
                self.audio = "copied"
            else:
                args += ["-map", "1:a:0", "-c:a", fallback_audio]
                self.audio = "re-encoded"
        if muxer in ("mp4", "mov"):
            args += ["-movflags", "+faststart"]
        args += ["-f", muxer, "file:" + str(tmp)]
        self._proc, self._stderr = popen_ffmpeg(args, stdin=subprocess.PIPE)

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame of shape {frame.shape} {frame.dtype}, expected "
                             f"({self.height}, {self.width}, 3) uint8")
        try:
            self._proc.stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))
        except (BrokenPipeError, OSError) as ex:
            self._proc.kill()
            self._proc.wait()
            raise FFmpegError(f"{self.path}: encoding failed: {self._stderr.text()}") from ex
        self.frames += 1

    def __exit__(self, kind, value, traceback) -> None:
        proc = self._proc
        if kind is not None:  # the caller failed: stop ffmpeg, remove the temporary file
            proc.kill()
            proc.wait()
            self._stack.__exit__(kind, value, traceback)
            return
        try:
            with contextlib.suppress(BrokenPipeError, OSError):
                proc.stdin.close()
            if proc.wait() != 0:
                raise FFmpegError(f"{self.path}: encoding failed: {self._stderr.text()}")
            if self.frames == 0:
                raise FFmpegError(f"{self.path}: no frames to encode")
        except BaseException:
            self._stack.__exit__(*sys.exc_info())
            raise
        self._stack.__exit__(None, None, None)  # renamed into place
