"""Cut a video down to kept time ranges: frame-accurate re-encode, or stream copy on keyframes.

exact: one ffmpeg run; each range is a trim/atrim pair, the pairs are concatenated (concat
filter) and re-encoded. Cut points are whole frames; audio is cut at the same instants to the
sample, so picture and sound stay in sync.

copy: no re-encoding, so a range can only start on a keyframe: the ranges are first snapped to
keyframes (`snap_to_keyframes`, the times used are returned). The input is split
at those keyframes with the segment muxer (which splits on whole GOPs, B-frames included) into
a temporary folder beside the output, and the kept pieces are joined with the concat demuxer.
That folder briefly needs up to the input's size in free space.

Both write the output under a temporary name and rename it when ffmpeg finished.
"""
from __future__ import annotations

import bisect
import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from phar_cli.atomic import atomic_path
from phar_cli.errors import FFmpegError, InvalidOption, NothingToKeep
from phar_cli.media.ffmpeg import has_option, run_ffmpeg, run_ffmpeg_progress
from phar_cli.media.probe import VideoInfo
from phar_cli.media.video_writer import EncoderOptions, container_of
from phar_cli.spans import SAME_TIME as EPS
from phar_cli.spans import Span

Progress = Callable[[str, float, float], None]
MODES = ("exact", "copy")
SNAP_RULES = ("outward", "inward", "nearest")
STEP = "Cutting"


@dataclass(frozen=True)
class CutResult:
    spans: list[Span]   # the input's times actually kept, in order
    mode: str           # 'exact', 'copy', or 'whole' (everything kept: streams copied)

    @property
    def seconds(self) -> float:
        return sum(s.duration for s in self.spans)


def keyframe_times(path: str | os.PathLike[str]) -> list[float]:
    """Times (s, from the start as ffmpeg counts it) of the first video stream's keyframes.

    Read from the packets' flags with ffmpeg's framecrc muxer: nothing is decoded."""
    proc = run_ffmpeg(["-loglevel", "error", "-i", "file:" + os.path.abspath(path),
                       "-map", "0:V:0", "-c", "copy", "-f", "framecrc", "-"],
                      f"{path}: listing keyframes")
    text = proc.stdout.decode("ascii", "replace")
    match = re.search(r"^#tb 0: (\d+)/(\d+)", text, re.M)
    if not match:
        raise FFmpegError(f"{path}: listing keyframes: no time base in ffmpeg's packet list")
    tb = Fraction(int(match[1]), int(match[2]))
    times = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 6:
            continue
        flags = next((int(f[2:], 16) for f in fields[6:] if f.startswith("F=")), 1)
        if flags & 1:
            dts, pts = int(fields[1]), int(fields[2])
            ts = pts if pts != -(2 ** 63) else dts
            times.append(float(ts * tb))
    return sorted(set(times))


def frame_ranges(spans: list[Span], fps: Fraction, frame_count: int) -> list[tuple[int, int]]:
    """[first, end) frame indices of each span, rounded to the nearest frame (frame i is shown
    from i/fps), clamped to the video; empty ranges dropped, touching ones merged."""
    out: list[tuple[int, int]] = []
    for span in spans:
        first = min(max(_round(span.start * fps), 0), frame_count)
        end = min(max(_round(span.end * fps), first), frame_count)
        if end <= first:
            continue
        if out and first <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((first, end))
    return out


def check_cut_options(mode: str, snap: str) -> None:
    """A cut's mode and snap rule, checked before any work (an analysis may take long)."""
    if mode not in MODES:
        raise InvalidOption("mode", f"{mode!r}: use {' or '.join(MODES)}")
    if snap not in SNAP_RULES:
        raise InvalidOption("snap", f"{snap!r}: use one of {', '.join(SNAP_RULES)}")


def cut_video(info: VideoInfo, spans: list[Span], output: str | os.PathLike[str], *,
              mode: str = "exact", snap: str = "outward",
              encoder: EncoderOptions = EncoderOptions(),
              progress: Progress | None = None) -> CutResult:
    """Keep `spans` of the video in `mode`. Spans covering the whole video are copied as they
    are ('whole'); in exact mode a container that cannot take the streams unchanged gets them
    re-encoded instead."""
    check_cut_options(mode, snap)
    whole = len(spans) == 1 and spans[0].start <= EPS and spans[0].end >= info.duration - EPS
    if whole:
        try:
            return copy_whole(info, output, progress=progress)
        except FFmpegError:
            if mode != "exact":
                raise
    if mode == "copy":
        return cut_copy(info, spans, output, snap=snap, progress=progress)
    return cut_exact(info, spans, output, encoder=encoder, progress=progress)


def cut_exact(info: VideoInfo, spans: list[Span], output: str | os.PathLike[str], *,
              encoder: EncoderOptions = EncoderOptions(),
              progress: Progress | None = None) -> CutResult:
    """Frame-accurate cut, re-encoding video (with `encoder`) and audio."""
    muxer, audio_codec = container_of(output)
    fps = Fraction(info.fps)
    ranges = frame_ranges(spans, fps, info.frame_count)
    if not ranges:
        raise NothingToKeep(f"{info.path}: nothing to keep (no whole frame in the kept ranges); "
                            "nothing written")
    graph, labels = [], []
    for k, (first, end) in enumerate(ranges):
        to_end = end >= info.frame_count
        # half a frame of slack on the video side, so rounding never moves a frame across
        v_start = max(0.0, float((first - Fraction(1, 2)) / fps)) if first else 0.0
        v_end = "" if to_end else f":end={float((end - Fraction(1, 2)) / fps):.6f}"
        graph.append(f"[0:V:0]trim=start={v_start:.6f}{v_end},setpts=PTS-STARTPTS[v{k}]")
        labels.append(f"[v{k}]")
        if info.has_audio:
            a_end = "" if to_end else f":end={float(end / fps):.6f}"
            graph.append(f"[0:a:0]atrim=start={float(first / fps):.6f}{a_end},"
                         f"asetpts=PTS-STARTPTS[a{k}]")
            labels.append(f"[a{k}]")
    a = 1 if info.has_audio else 0
    graph.append(f"{''.join(labels)}concat=n={len(ranges)}:v=1:a={a}[v][a]" if a
                 else f"{''.join(labels)}concat=n={len(ranges)}:v=1:a=0[v]")
    used = [Span(float(f / fps), min(info.duration, float(e / fps)) if e >= info.frame_count
                 else float(e / fps)) for f, e in ranges]
    total = sum(s.duration for s in used)
    args = ["-y", "-loglevel", "error", "-i", "file:" + os.path.abspath(info.path),
            "-filter_complex", ";".join(graph), "-map", "[v]",
            *encoder.args(info.width, info.height)]
    if a:
        args += ["-map", "[a]", "-c:a", audio_codec]
    args += _mov_flags(muxer)
    report = _reporter(progress, total)
    with atomic_path(output) as tmp:
        run_ffmpeg_progress([*args, "-f", muxer, "file:" + str(tmp)], f"{output}: cutting",
                            total, report)
    return CutResult(used, "exact")


def cut_copy(info: VideoInfo, spans: list[Span], output: str | os.PathLike[str], *,
             snap: str = "outward", keyframes: list[float] | None = None,
             progress: Progress | None = None) -> CutResult:
    """Stream-copy cut on keyframes; the returned spans are the keyframe-aligned times used."""
    muxer, _ = container_of(output)
    duration = info.duration
    keyframes = keyframe_times(info.path) if keyframes is None else keyframes
    used = snap_to_keyframes(spans, keyframes, duration, snap)
    if not used:
        raise NothingToKeep(f"{info.path}: nothing to keep (no kept range holds a whole GOP to "
                            f"snap {snap} to; snap outward keeps it); nothing written")
    if len(used) == 1 and used[0].start <= EPS and used[0].end >= duration - EPS:
        return copy_whole(info, output, progress=progress)
    bounds = sorted({t for s in used for t in (s.start, s.end) if EPS < t < duration - EPS})
    edges = [0.0, *bounds, duration]
    keep = [i for i in range(len(edges) - 1)
            if any(s.start - EPS <= edges[i] and edges[i + 1] <= s.end + EPS for s in used)]
    total = duration + sum(s.duration for s in used)
    report = _reporter(progress, total)
    lead = min(0.001, 0.25 / float(info.fps))  # split *at* the keyframe, never one GOP later
    with tempfile.TemporaryDirectory(prefix=".phar-cut-", dir=Path(output).parent) as tmp:
        split = ["-y", "-loglevel", "error", "-i", "file:" + os.path.abspath(info.path),
                 *_streams(info), "-c", "copy", "-f", "segment", "-segment_format", "nut",
                 "-reset_timestamps", "1"]
        if bounds:
            split += ["-segment_times", ",".join(f"{t - lead:.6f}" for t in bounds)]
        run_ffmpeg_progress([*split, os.path.join(tmp, "part%05d.nut")],
                            f"{info.path}: splitting on keyframes", duration, report)
        parts = sorted(p for p in os.listdir(tmp) if p.endswith(".nut"))
        if len(parts) != len(edges) - 1:
            raise FFmpegError(f"{info.path}: splitting on keyframes gave {len(parts)} pieces, "
                              f"expected {len(edges) - 1}")
        # each piece lasts exactly its video time span: joins land on the keyframes' times
        listing = Path(tmp) / "parts.ffconcat"
        listing.write_text("ffconcat version 1.0\n" + "".join(
            f"file '{parts[i]}'\nduration {edges[i + 1] - edges[i]:.6f}\n" for i in keep),
            encoding="utf-8")
        done = duration
        rotate_in, rotate_out = _rotation(info)
        join = ["-y", "-loglevel", "error", *rotate_in, "-f", "concat", "-safe", "0",
                "-i", "file:" + str(listing), "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy",
                *rotate_out, *_mov_flags(muxer)]
        with atomic_path(output) as out:
            run_ffmpeg_progress([*join, "-f", muxer, "file:" + str(out)], f"{output}: joining",
                                total - done,
                                None if report is None else lambda d, t: report(done + d, total))
    return CutResult(used, "copy")


def copy_whole(info: VideoInfo, output: str | os.PathLike[str], *,
               progress: Progress | None = None) -> CutResult:
    """Everything is kept: the video and its first audio track, streams copied unchanged."""
    muxer, _ = container_of(output)
    args = ["-y", "-loglevel", "error", "-i", "file:" + os.path.abspath(info.path),
            *_streams(info), "-c", "copy", *_mov_flags(muxer)]
    with atomic_path(output) as tmp:
        run_ffmpeg_progress([*args, "-f", muxer, "file:" + str(tmp)], f"{output}: copying",
                            info.duration, _reporter(progress, info.duration))
    return CutResult([Span(0.0, info.duration)], "whole")


def _streams(info: VideoInfo) -> list[str]:
    return ["-map", "0:V:0"] + (["-map", "0:a:0"] if info.has_audio else [])


def _rotation(info: VideoInfo) -> tuple[list[str], list[str]]:
    """The pieces' container (nut) drops the display rotation: give it back to the joined file
    (ffmpeg's angle is counter-clockwise; ours is clockwise, as players apply it)."""
    if not info.rotation:
        return [], []
    if has_option("display_rotation"):  # ffmpeg 6+
        return ["-display_rotation:v:0", str(-info.rotation)], []
    return [], ["-metadata:s:v:0", f"rotate={info.rotation}"]


def _mov_flags(muxer: str) -> list[str]:
    return ["-movflags", "+faststart"] if muxer in ("mp4", "mov") else []


def _reporter(progress: Progress | None, total: float):
    if progress is None:
        return None
    return lambda done, _total: progress(STEP, done, total)


def _round(x: Fraction | float) -> int:
    return math.floor(Fraction(x) + Fraction(1, 2))


def snap_to_keyframes(spans: list[Span], keyframes: list[float], duration: float,
                      rule: str = "outward") -> list[Span]:
    """Move cut points onto keyframes, as a stream copy must cut (the end of the video counts
    as a keyframe). 'outward' keeps every kept second (start back, end forward), 'inward'
    never keeps a dropped one (start forward, end back; a range with no keyframe inside
    vanishes), 'nearest' moves each point to the closest keyframe. Overlaps merge."""
    if rule not in SNAP_RULES:
        raise InvalidOption("snap", f"{rule!r}: use one of {', '.join(SNAP_RULES)}")
    points = sorted({k for k in keyframes if -EPS <= k < duration - EPS} | {duration})
    if not points or points[0] > EPS:
        points = [0.0] + [p for p in points if p > EPS]  # the first frame always starts a cut
    out: list[Span] = []
    for span in spans:
        if rule == "outward":
            start, end = _at_or_before(points, span.start), _at_or_after(points, span.end)
        elif rule == "inward":
            start, end = _at_or_after(points, span.start), _at_or_before(points, span.end)
        else:
            start, end = _nearest(points, span.start), _nearest(points, span.end)
        if end - start > EPS:
            out.append(Span(start, end))
    return _merge(out)


def _merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for span in sorted(spans):
        if out and span.start <= out[-1].end + EPS:
            out[-1] = Span(out[-1].start, max(out[-1].end, span.end))
        else:
            out.append(span)
    return out


def _at_or_before(points: list[float], t: float) -> float:
    i = bisect.bisect_right(points, t + EPS) - 1
    return points[max(i, 0)]


def _at_or_after(points: list[float], t: float) -> float:
    i = bisect.bisect_left(points, t - EPS)
    return points[min(i, len(points) - 1)]


def _nearest(points: list[float], t: float) -> float:
    before, after = _at_or_before(points, t), _at_or_after(points, t)
    return before if t - before <= after - t else after
