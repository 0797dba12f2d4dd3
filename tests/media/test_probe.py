from __future__ import annotations

from fractions import Fraction

import pytest

from phar_cli.errors import VideoOpenError
from phar_cli.media.ffmpeg import run_ffmpeg
from phar_cli.media.probe import parse_header, probe
from phar_cli.synthetic.video import make_video


@pytest.mark.parametrize("name, fps, size, audio", [
    ("a.mp4", 30, (160, 120), True),
    ("b.mkv", Fraction(30000, 1001), (320, 240), False),
    ("c.mp4", 25, (176, 144), False),
    ("d.mkv", 60, (160, 90), True),
])
def test_probe_reports_rate_size_frames_and_audio(tmp_path, name, fps, size, audio):
    path = make_video(tmp_path / name, 2, fps=fps, size=size, audio=audio)

    info = probe(path)

    assert info.path == str(path)
    assert info.fps == Fraction(fps)
    assert (info.width, info.height) == size == (info.coded_width, info.coded_height)
    assert info.rotation == 0
    assert info.frame_count == round(2 * Fraction(fps))
    assert info.duration == pytest.approx(2, abs=0.05)
    assert info.has_audio is audio
    assert info.audio_sample_rate == (48000 if audio else None)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_video_reports_display_size_and_rotation(rotated_videos, rotation):
    info = probe(rotated_videos[rotation])

    assert info.rotation == rotation
    assert (info.width, info.height) == (160, 96)
    stored = (96, 160) if rotation in (90, 270) else (160, 96)
    assert (info.coded_width, info.coded_height) == stored


def test_missing_file(tmp_path):
    path = tmp_path / "nope.mp4"
    with pytest.raises(VideoOpenError, match="file not found") as err:
        probe(path)
    assert str(path) in str(err.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(VideoOpenError, match="file is empty") as err:
        probe(path)
    assert str(path) in str(err.value)


def test_directory(tmp_path):
    with pytest.raises(VideoOpenError, match="directory") as err:
        probe(tmp_path)
    assert str(tmp_path) in str(err.value)


@pytest.mark.parametrize("name", ["notes.mp4", "notes.mkv", "notes.txt"])
def test_text_file_renamed_as_video(tmp_path, name):
    path = tmp_path / name
    path.write_text("this is not a video\n" * 20)
    with pytest.raises(VideoOpenError, match="not a video file") as err:
        probe(path)
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_truncated_mp4(basic_video, tmp_path):
    """ffmpeg writes the index (moov) last: a cut-off download has none."""
    path = tmp_path / "cut.mp4"
    path.write_bytes(basic_video.read_bytes()[: basic_video.stat().st_size // 2])
    with pytest.raises(VideoOpenError, match="truncated") as err:
        probe(path)
    assert str(path) in str(err.value)


def test_truncated_faststart_mp4_is_caught_not_crashed(basic_video, tmp_path):
    """Index first, data cut: ffmpeg -i is happy, decord fails while indexing; typed error."""
    fast = tmp_path / "fast.mp4"
    run_ffmpeg(["-y", "-i", str(basic_video), "-c", "copy", "-movflags", "+faststart",
                str(fast)], "remux")
    path = tmp_path / "fast_cut.mp4"
    path.write_bytes(fast.read_bytes()[: fast.stat().st_size // 2])
    with pytest.raises(VideoOpenError, match="truncated or corrupt") as err:
        probe(path)
    assert str(path) in str(err.value)
    assert isinstance(err.value.__cause__, Exception)


def test_audio_only_file_has_no_video_stream(audio_only_file):
    with pytest.raises(VideoOpenError, match="no video stream") as err:
        probe(audio_only_file)
    assert str(audio_only_file) in str(err.value)


def test_header_rotation_from_older_ffmpeg_reports():
    """ffmpeg 4/5 print a lower-case displaymatrix line and a `rotate` tag; 7+ only the matrix."""
    old = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'phone.mp4':
  Duration: 00:01:02.50, start: 0.000000, bitrate: 1000 kb/s
    Stream #0:0(eng): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 1920x1080, 990 kb/s, 29.97 fps, 29.97 tbr, 90k tbn, 59.94 tbc (default)
    Metadata:
      rotate          : 90
      handler_name    : VideoHandle
    Side data:
      displaymatrix: rotation of -90.00 degrees
    Stream #0:1(eng): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 128 kb/s (default)
"""
    header = parse_header(old)
    assert header.duration == pytest.approx(62.5)
    assert len(header.video) == 1
    stream = header.video[0]
    assert (stream.coded_width, stream.coded_height, stream.rotation) == (1920, 1080, 90)
    assert header.audio_rates == [44100]

    tag_only = old.replace("    Side data:\n      displaymatrix: rotation of -90.00 degrees\n", "")
    assert parse_header(tag_only).video[0].rotation == 90
    counter = old.replace("rotation of -90.00", "rotation of 90.00").replace(": 90\n", ": 270\n")
    assert parse_header(counter).video[0].rotation == 270


def test_header_skips_cover_art_streams():
    text = """Input #0, mp3, from 'song.mp3':
  Duration: 00:03:00.00, start: 0.025057, bitrate: 320 kb/s
  Stream #0:0: Audio: mp3, 44100 Hz, stereo, fltp, 320 kb/s
  Stream #0:1: Video: mjpeg (Baseline), yuvj420p(pc), 500x500 [SAR 1:1 DAR 1:1], 90k tbr, 90k tbn (attached pic)
"""
    header = parse_header(text)
    assert header.video == []
    assert header.audio_rates == [44100]
