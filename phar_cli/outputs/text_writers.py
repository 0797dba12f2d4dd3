"""Segment lists as csv, subtitles (srt, vtt), ffmpeg chapters (ffmetadata) and a CMX3600 EDL."""
from __future__ import annotations

import csv
import io
import math
from pathlib import PurePath

from phar_cli.core.predictions import Analysis
from phar_cli.core.segments import Segment
from phar_cli.outputs.base import Writer

DEFAULT_EDL_FPS = 30.0


def format_timestamp(seconds: float, decimal_marker: str = ".") -> str:
    """`HH:MM:SS<marker>mmm`, rounded to the millisecond; shared by SRT (',') and VTT ('.')."""
    if seconds < 0:
        raise ValueError(f"negative timestamp {seconds}")
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{ms:03d}"


def cue_text(segment: Segment) -> str:
    """'doggy 0.83': one line (a newline in a label would end an SRT/VTT cue or an EDL comment)."""
    return f"{' '.join(segment.label.split())} {segment.score:.2f}"


def vtt_escape(text: str) -> str:
    """WebVTT cue text is markup: '&', '<' and '>' must be written as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class CsvWriter(Writer):
    name = "csv"
    extension = "csv"

    def render(self, analysis: Analysis, segments: list[Segment]) -> bytes:
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow(["label", "start", "end", "score", "coverage"])
        for s in segments:
            out.writerow([s.label, f"{s.start:.3f}", f"{s.end:.3f}", f"{s.score:.4f}", f"{s.coverage:.4f}"])
        return buf.getvalue().encode("utf-8")


class SrtWriter(Writer):
    name = "srt"
    extension = "srt"

    def render(self, analysis: Analysis, segments: list[Segment]) -> bytes:
        cues = [f"{i}\n{format_timestamp(s.start, ',')} --> {format_timestamp(s.end, ',')}\n{cue_text(s)}\n"
                for i, s in enumerate(segments, start=1)]
        return "\n".join(cues).encode("utf-8")


class VttWriter(Writer):
    name = "vtt"
    extension = "vtt"

    def render(self, analysis: Analysis, segments: list[Segment]) -> bytes:
        cues = [f"{format_timestamp(s.start)} --> {format_timestamp(s.end)}\n{vtt_escape(cue_text(s))}\n"
                for s in segments]
        return "\n".join(["WEBVTT\n", *cues]).encode("utf-8")


def ffmetadata_escape(value: str) -> str:
    """Backslash before '=', ';', '#', '\\' and newline, as ffmpeg's ffmetadata format requires."""
    return "".join("\\" + c if c in "=;#\\\n" else c for c in value)


class FFMetadataWriter(Writer):
    """Chapters for `ffmpeg -i video -i chapters -map_metadata 1 -map_chapters 1 -c copy out`."""

    name = "ffmetadata"
    extension = "ffmetadata"

    def render(self, analysis: Analysis, segments: list[Segment]) -> bytes:
        lines = [";FFMETADATA1"]
        for s in segments:
            lines += ["", "[CHAPTER]", "TIMEBASE=1/1000", f"START={round(s.start * 1000)}",
                      f"END={round(s.end * 1000)}", f"title={ffmetadata_escape(s.label)}"]
        return ("\n".join(lines) + "\n").encode("utf-8")


def edl_frame_rate(fps: float) -> tuple[float, int]:
    """(actual rate, timecode base): 29.97 counts at 30 non-drop, 0 (unknown) becomes 30."""
    rate = fps if fps > 0 and math.isfinite(fps) else DEFAULT_EDL_FPS
    return rate, max(1, round(rate))


def edl_timecode(frames: int, base: int) -> str:
    seconds, ff = divmod(frames, base)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


class EdlWriter(Writer):
    """CMX3600, one cut event per segment; the record side lays the segments end to end, so the
    EDL also describes the cut made of them. Frames are counted at the real rate and labelled in
    non-drop timecode of the rounded rate."""

    name = "edl"
    extension = "edl"

    def render(self, analysis: Analysis, segments: list[Segment]) -> bytes:
        rate, base = edl_frame_rate(analysis.video.fps)
        clip = PurePath(analysis.video.path).name if analysis.video.path else ""
        title = PurePath(clip).stem or "phar"
        lines = [f"TITLE: {title}", "FCM: NON-DROP FRAME", ""]
        record = 0
        for i, s in enumerate(segments, start=1):
            src_in, src_out = round(s.start * rate), round(s.end * rate)
            rec_in, record = record, record + (src_out - src_in)
            tcs = " ".join(edl_timecode(f, base) for f in (src_in, src_out, rec_in, record))
            lines.append(f"{i:03d}  AX       V     C        {tcs}")
            if clip:
                lines.append(f"* FROM CLIP NAME: {clip}")
            lines.append(f"* COMMENT: {cue_text(s)}")
            lines.append("")
        return "\n".join(lines).encode("utf-8")
