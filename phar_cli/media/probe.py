"""What a video is: duration, frame rate, frame count, display size, rotation, audio stream.

Two readers, each for what it does best and neither needing ffprobe (imageio-ffmpeg ships none):
`ffmpeg -i` prints the container header (duration, streams, rotation) and fails cleanly on
files that are not video; decord then gives the frame count and rate it will decode with and
proves that the first frame decodes. ffmpeg goes first so that decord only sees files that at
least open; decord's own failures are wrapped too (it raises rather than crashes on the
truncated files we tried: moov-less and cut-off fast-start mp4s, cut-off mkvs).

decord 0.6.0 applies the display rotation itself (its frames and `width`/`height` are in display
orientation); `VideoInfo.width`/`height` are the display size, `coded_*` the stored one.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from phar_cli.errors import VideoOpenError
from phar_cli.media.ffmpeg import run_ffmpeg


@dataclass(frozen=True)
class VideoInfo:
    path: str
    duration: float
    fps: Fraction
    frame_count: int
    width: int  # display size, after rotation
    height: int
    rotation: int  # clockwise display rotation as players apply it: 0, 90, 180 or 270
    has_audio: bool
    audio_sample_rate: int | None
    coded_width: int  # stored size, before rotation
    coded_height: int


@dataclass
class VideoStreamHeader:
    coded_width: int
    coded_height: int
    fps: Fraction | None
    rotation: int = 0


@dataclass
class Header:
    """The parts of `ffmpeg -i`'s report that phar uses."""

    duration: float | None
    video: list[VideoStreamHeader] = field(default_factory=list)
    audio_rates: list[int | None] = field(default_factory=list)


_DURATION = re.compile(r"^\s*Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)", re.M)
_STREAM = re.compile(r"^\s*Stream #\d+:\d+.*?: (Video|Audio|Subtitle|Data|Attachment): (.*)$")
_SIZE = re.compile(r"(?:^|[ ,])(\d{2,5})x(\d{2,5})(?=[ ,\[]|$)")
_FPS = re.compile(r"([\d.]+)(k?) (?:fps|tbr)")
_HZ = re.compile(r"(\d+) Hz")
_DISPLAY = re.compile(r"rotation of (-?[\d.]+) degrees", re.I)
_ROTATE_TAG = re.compile(r"^\s*rotate\s*:\s*(-?\d+)", re.I)


def read_header(path: str | os.PathLike[str]) -> Header:
    """Run `ffmpeg -i` on an existing, non-empty file and parse its report.

    Raises VideoOpenError when ffmpeg cannot open the file as media at all.
    """
    path = str(path)
    proc = run_ffmpeg(["-i", "file:" + os.path.abspath(path)], "ffmpeg -i", check=False)
    text = proc.stderr.decode("utf-8", "replace")
    if "Input #0" not in text:
        raise VideoOpenError(f"{path}: {_open_problem(text)}")
    return parse_header(text)


def parse_header(text: str) -> Header:
    match = _DURATION.search(text)
    duration = (int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3])) if match else None
    header = Header(duration)
    current: VideoStreamHeader | None = None
    for line in text.splitlines():
        stream = _STREAM.match(line)
        if stream:
            kind, rest = stream.groups()
            current = None
            if kind == "Video" and "attached pic" not in rest:
                size = _SIZE.search(rest)
                if size:
                    current = VideoStreamHeader(int(size[1]), int(size[2]), _fps(rest))
                    header.video.append(current)
            elif kind == "Audio":
                hz = _HZ.search(rest)
                header.audio_rates.append(int(hz[1]) if hz else None)
            continue
        if current is None:
            continue
        display = _DISPLAY.search(line)
        if display:  # ffmpeg prints the counter-clockwise angle; players turn clockwise
            current.rotation = _quarter(-float(display[1]))
        elif _ROTATE_TAG.match(line) and not current.rotation:
            current.rotation = _quarter(float(_ROTATE_TAG.match(line)[1]))
    return header


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Describe a video, or raise VideoOpenError('<path>: <problem>')."""
    path = str(path)
    _check_file(path)
    header = read_header(path)
    if not header.video:
        raise VideoOpenError(f"{path}: no video stream")
    stream = header.video[0]
    frame_count, avg_fps, (height, width) = _decord_facts(path)
    fps = _as_fraction(avg_fps) or stream.fps
    if not fps or frame_count < 1:
        raise VideoOpenError(f"{path}: no decodable video frames")
    duration = header.duration if header.duration else float(frame_count / fps)
    return VideoInfo(path=path, duration=duration, fps=fps, frame_count=frame_count,
                     width=width, height=height, rotation=stream.rotation,
                     has_audio=bool(header.audio_rates),
                     audio_sample_rate=header.audio_rates[0] if header.audio_rates else None,
                     coded_width=stream.coded_width, coded_height=stream.coded_height)


def _check_file(path: str) -> None:
    p = Path(path)
    if not p.exists():
        raise VideoOpenError(f"{path}: file not found")
    if p.is_dir():
        raise VideoOpenError(f"{path}: is a directory, not a video file")
    try:
        size = p.stat().st_size
    except OSError as ex:
        raise VideoOpenError(f"{path}: cannot read ({ex.strerror})") from ex
    if size == 0:
        raise VideoOpenError(f"{path}: file is empty")
    if not os.access(path, os.R_OK):
        raise VideoOpenError(f"{path}: permission denied")


def _decord_facts(path: str) -> tuple[int, float, tuple[int, int]]:
    """Frame count, average fps and display (height, width), as decord will decode them."""
    try:
        from decord import VideoReader
    except ImportError as ex:
        raise VideoOpenError(f"{path}: cannot decode video: decord is not installed") from ex
    try:
        reader = VideoReader(path, num_threads=1)
        count = len(reader)
        fps = float(reader.get_avg_fps())
        first = reader[0].shape
    except Exception as ex:  # decord raises DECORDError/RuntimeError for broken input
        raise VideoOpenError(f"{path}: truncated or corrupt video ({_first_line(ex)})") from ex
    return count, fps, (int(first[0]), int(first[1]))


def _open_problem(ffmpeg_report: str) -> str:
    if "No such file" in ffmpeg_report:
        return "file not found"
    if "Permission denied" in ffmpeg_report:
        return "permission denied"
    if "moov atom not found" in ffmpeg_report:
        return "not a video file, or truncated (no moov atom)"
    return "not a video file or unsupported format"


def _fps(stream_text: str) -> Fraction | None:
    match = _FPS.search(stream_text)
    if not match:
        return None
    value = float(match[1]) * (1000 if match[2] else 1)
    return _as_fraction(value)


def _as_fraction(value: float) -> Fraction | None:
    """Float rate → exact rate: 29.97002997 → 30000/1001, 25.0 → 25."""
    if not value or value != value or value <= 0:
        return None
    return Fraction(value).limit_denominator(1001)


def _quarter(degrees: float) -> int:
    return int(round(degrees / 90.0)) % 4 * 90


def _first_line(ex: BaseException) -> str:
    lines = [line.strip() for line in str(ex).splitlines() if line.strip()]
    text = lines[0] if lines else type(ex).__name__
    text = re.sub(r"^\[[\d:]+\] \S+: ", "", text)  # drop decord's "[time] file.cc:123: "
    return text[:160]
