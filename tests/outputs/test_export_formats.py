import csv
import html
import io
import re
import subprocess
from fractions import Fraction

import orjson
import pytest

from phar_cli.core.predictions import VideoMeta, load_predictions
from phar_cli.core.segments import Segment
from phar_cli.spans import Span
from phar_cli.errors import UsageError
from phar_cli.outputs import FORMATS, get_writer
from phar_cli.outputs.text_writers import edl_frame_rate, ffmetadata_escape, format_timestamp

CUE = re.compile(r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d) --> (\d\d):(\d\d):(\d\d)[,.](\d\d\d)")


def parse_cues(text: str) -> list[tuple[float, float, str]]:
    """(start, end, text) of every cue of an SRT or VTT file (VTT entities decoded)."""
    vtt = text.startswith("WEBVTT")
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            m = CUE.match(line.strip())
            if m:
                g = [int(x) for x in m.groups()]
                start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
                end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
                body = "\n".join(lines[i + 1:])
                cues.append((start, end, html.unescape(body) if vtt else body))
                break
    return cues


def expected_cues(segments):
    return [(round(s.start, 3), round(s.end, 3), f"{s.label} {s.score:.2f}") for s in segments]


def test_formats_and_extensions():
    assert set(FORMATS) == {"json", "csv", "srt", "vtt", "ffmetadata", "edl"}
    for name in FORMATS:
        assert get_writer(name).extension
    assert get_writer(" SRT ").name == "srt"
    with pytest.raises(UsageError, match="choose from json, csv"):
        get_writer("docx")


def test_segments_fixture(segments):
    assert [(s.label, s.start, s.end) for s in segments] == [
        ("doggy", 0, 14), ("blowjob", 14, 21), ("69", 28, 33)]


def test_json_round_trips_through_load_predictions(tmp_path, analysis, segments):
    path = tmp_path / "p.json"
    get_writer("json").write(analysis, segments, path)
    assert load_predictions(path) == analysis
    data = orjson.loads(path.read_bytes())
    assert data["segments"][0] == {"label": "doggy", "start": 0.0, "end": 14.0, "score": 0.82, "coverage": 1.0}
    assert [s["label"] for s in data["segments"]] == ["doggy", "blowjob", "69"]


def test_csv_has_a_header_and_one_row_per_segment(tmp_path, analysis, segments):
    path = tmp_path / "s.csv"
    get_writer("csv").write(analysis, segments, path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [r["label"] for r in rows] == ["doggy", "blowjob", "69"]
    assert list(rows[0]) == ["label", "start", "end", "score", "coverage"]
    for row, seg in zip(rows, segments):
        assert float(row["start"]) == seg.start and float(row["end"]) == seg.end
        assert float(row["score"]) == pytest.approx(seg.score, abs=1e-4)
        assert float(row["coverage"]) == pytest.approx(seg.coverage, abs=1e-4)


def test_csv_quotes_labels_with_commas(analysis):
    odd = [Segment("a,b", Span(0, 1), 0.5, 1.0)]
    rows = list(csv.reader(io.StringIO(get_writer("csv").render(analysis, odd).decode())))
    assert rows[1][0] == "a,b"


def test_timestamps_share_one_format():
    assert format_timestamp(0) == "00:00:00.000"
    assert format_timestamp(3723.4567, ",") == "01:02:03,457"
    assert format_timestamp(59.9996) == "00:01:00.000"   # rounding carries into the minutes
    assert format_timestamp(100 * 3600) == "100:00:00.000"
    with pytest.raises(ValueError):
        format_timestamp(-1)


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_parse_back(tmp_path, fmt, analysis, odd_segments, segments):
    for segs in (segments, odd_segments):
        path = tmp_path / f"s.{fmt}"
        get_writer(fmt).write(analysis, segs, path)
        text = path.read_text()
        assert parse_cues(text) == expected_cues(segs)
    assert text.startswith("WEBVTT\n\n") if fmt == "vtt" else text.startswith("1\n00:00:00,000 --> 00:00:02,500\n")
    if fmt == "srt":
        assert "\n3\n00:00:12,346 --> 00:00:29,999\ndoggy 0.88\n" in text


def test_ffmetadata_chapters(analysis, segments):
    text = get_writer("ffmetadata").render(analysis, segments).decode()
    assert text.startswith(";FFMETADATA1\n")
    assert text.count("[CHAPTER]") == 3
    assert "[CHAPTER]\nTIMEBASE=1/1000\nSTART=14000\nEND=21000\ntitle=blowjob\n" in text


def test_ffmetadata_escapes_special_characters():
    assert ffmetadata_escape("a=b;c#d\\e\nf") == "a\\=b\\;c\\#d\\\\e\\\nf"


def parse_edl(text: str):
    events, comments = [], []
    for line in text.splitlines():
        m = re.match(r"(\d{3})\s+(\S+)\s+(V|A|B|AA/V)\s+C\s+" + r"\s+".join([r"(\d\d:\d\d:\d\d:\d\d)"] * 4) + r"\s*$", line)
        if m:
            events.append((int(m[1]), m[4], m[5], m[6], m[7]))
        elif line.startswith("* COMMENT: "):
            comments.append(line[len("* COMMENT: "):])
    return events, comments


def test_edl_events_at_the_video_frame_rate(analysis, segments):
    text = get_writer("edl").render(analysis, segments).decode()
    lines = text.splitlines()
    assert lines[:2] == ["TITLE: clip one", "FCM: NON-DROP FRAME"]
    assert "* FROM CLIP NAME: clip one.mp4" in lines
    events, comments = parse_edl(text)
    # 29.97 fps counted in 30-frame non-drop timecode: 14 s = 420 frames (419.58 rounded)
    assert events == [
        (1, "00:00:00:00", "00:00:14:00", "00:00:00:00", "00:00:14:00"),
        (2, "00:00:14:00", "00:00:20:29", "00:00:14:00", "00:00:20:29"),
        (3, "00:00:27:29", "00:00:32:29", "00:00:20:29", "00:00:25:29"),
    ]
    assert comments == ["doggy 0.82", "blowjob 0.60", "69 0.75"]


def test_edl_defaults_to_30_fps_and_integer_rates(analysis, segments):
    assert edl_frame_rate(0) == (30.0, 30)
    assert edl_frame_rate(23.976) == (23.976, 24)
    assert edl_frame_rate(25) == (25, 25)
    analysis.video = VideoMeta("", 33.0, 0.0, 0, 0)
    text = get_writer("edl").render(analysis, segments).decode()
    events, _ = parse_edl(text)
    assert events[2] == (3, "00:00:28:00", "00:00:33:00", "00:00:21:00", "00:00:26:00")
    assert text.startswith("TITLE: phar\n") and "FROM CLIP NAME" not in text


# What ffmpeg reads back from our files: subtitles converted, chapters muxed into a video.


def run(ffmpeg, *args) -> bytes:
    proc = subprocess.run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def unescape(value: str) -> str:
    out, it = [], iter(value)
    for c in it:
        out.append(next(it, "") if c == "\\" else c)
    return "".join(out)


def read_chapters(text: str) -> list[tuple[float, float, str]]:
    """(start s, end s, title) of each [CHAPTER] of an ffmetadata text (escapes undone)."""
    chapters, cur = [], None
    lines = iter(text.splitlines())
    for line in lines:
        while line.endswith("\\") and not line.endswith("\\\\"):  # escaped newline
            line = line + "\n" + next(lines)
        if line.startswith("["):
            cur = {} if line == "[CHAPTER]" else None
            if cur is not None:
                chapters.append(cur)
        elif cur is not None and "=" in line:
            key, value = line.split("=", 1)
            cur[key] = unescape(value)
    out = []
    for c in chapters:
        tb = Fraction(c["TIMEBASE"])
        out.append((float(int(c["START"]) * tb), float(int(c["END"]) * tb), c.get("title")))
    return out


@pytest.fixture(scope="module")
def blue_video(ffmpeg, tmp_path_factory):
    path = tmp_path_factory.mktemp("media") / "blue.mkv"
    run(ffmpeg, "-f", "lavfi", "-i", "color=c=blue:s=64x64:d=30:r=10", "-c:v", "mpeg4", str(path))
    return path


def test_vtt_converted_to_srt_by_ffmpeg_keeps_every_cue(ffmpeg, tmp_path, analysis, segments, odd_segments):
    for segs in (segments, odd_segments):
        vtt, srt = tmp_path / "x.vtt", tmp_path / "out.srt"
        get_writer("vtt").write(analysis, segs, vtt)
        run(ffmpeg, "-i", str(vtt), str(srt))
        # ffmpeg's SRT encoder puts a word joiner after a backslash so that players do not read
        # it as an ASS escape; it is not part of the text
        assert parse_cues(srt.read_text().replace("\u2060", "")) == expected_cues(segs)


def test_ffmetadata_chapters_survive_a_mux(ffmpeg, blue_video, tmp_path, analysis, segments, odd_segments):
    for segs in (segments, odd_segments):
        chapters, out = tmp_path / "chapters.txt", tmp_path / "out.mkv"
        get_writer("ffmetadata").write(analysis, segs, chapters)
        run(ffmpeg, "-i", str(blue_video), "-i", str(chapters), "-map", "0", "-map_metadata", "1",
            "-map_chapters", "1", "-c", "copy", str(out))
        back = read_chapters(run(ffmpeg, "-i", str(out), "-f", "ffmetadata", "-").decode())
        want = [(round(s.start, 3), round(s.end, 3), s.label) for s in segs]
        assert [(round(a, 3), round(b, 3), t) for a, b, t in back] == want


def test_a_newline_in_a_label_cannot_break_a_cue(analysis):
    segs = [Segment("two\nlines", Span(0, 1), 0.5, 1.0), Segment("next", Span(1, 2), 0.5, 1.0)]
    for fmt in ("srt", "vtt"):
        assert [c[2] for c in parse_cues(get_writer(fmt).render(analysis, segs).decode())] == [
            "two lines 0.50", "next 0.50"]
    assert "* COMMENT: two lines 0.50" in get_writer("edl").render(analysis, segs).decode()
