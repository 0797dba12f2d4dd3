"""`phar demo` from a predictions JSON: every frame once at the same fps and size, the audio
copied, the overlay only inside the regions it claims, encoder options honoured."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from phar_cli.core.predictions import load_predictions
from phar_cli.media.decode import FrameReader
from phar_cli.media.probe import probe
from phar_cli.outputs.overlay import Overlay

from tests.conftest import run_phar
from tests.mediacheck import decode_audio, decode_frames, packet_hashes, video_codec


def demo(capsys, video, out, preds, *args):
    code, stdout, stderr = run_phar(["demo", video, out, "--from-json", preds,
                                     "--preset", "ultrafast", *args], capsys)
    assert code == 0, stderr
    assert f"wrote {out}" in stdout
    return stderr


def test_every_frame_once_same_fps_size_duration_and_audio_copied(demo_media, tmp_path,
                                                                   capsys, isolated_home):
    # isolated_home: no model files anywhere, so --from-json must not analyse again
    src, out = demo_media["plain"], tmp_path / "demo.mp4"
    stderr = demo(capsys, src, out, demo_media["plain.json"])
    assert "180 frames" in stderr and "audio copied" in stderr
    a, b = probe(src), probe(out)
    assert (b.frame_count, b.fps, b.width, b.height) == (a.frame_count, a.fps, a.width, a.height)
    assert abs(b.duration - a.duration) <= 1 / float(a.fps)
    assert len(decode_frames(out, 160, 120)) == len(decode_frames(src, 160, 120)) == 180
    assert b.has_audio
    assert packet_hashes(out, "a:0") == packet_hashes(src, "a:0")     # copied, not re-encoded
    assert len(decode_audio(out)) == len(decode_audio(src))           # same duration
    assert not list(tmp_path.glob(".demo*"))


def test_overlay_changes_pixels_only_in_its_regions(demo_media, tmp_path, capsys):
    """Lossless encoding (crf 0): only the overlay differs, up to rounding. Brightness (luma)
    survives the RGB -> 4:2:0 -> RGB round trip within 3 levels; colour does not exactly at
    sharp colour edges (chroma is stored at half resolution), so it is checked on average.
    The rotated input also proves the output is upright: compared with decord's frames."""
    src, out = demo_media["rotated"], tmp_path / "demo.mp4"
    demo(capsys, src, out, demo_media["rotated.json"], "--crf", "0")
    info = probe(out)
    assert (info.width, info.height, info.rotation) == (160, 120, 0)
    ours = FrameReader(out).frames(range(180)).astype(float)
    theirs = FrameReader(src).frames(range(180)).astype(float)
    luma = np.array([0.299, 0.587, 0.114])
    diff = np.abs(ours @ luma - theirs @ luma)                      # (frames, h, w)
    overlay = Overlay(load_predictions(demo_media["rotated.json"]), 160, 120, 6.0, topk=3)
    inside = np.zeros((120, 160), bool)
    for r in overlay.regions:  # 2 px more: chroma of a 2x2 block straddling the edge
        inside[max(0, r.y - 2):r.y + r.h + 2, max(0, r.x - 2):r.x + r.w + 2] = True
    outside = diff[:, ~inside]
    assert outside.max() <= 3 and outside.mean() < 0.5, (outside.max(), outside.mean())
    assert np.abs(ours - theirs)[:, ~inside].mean() < 1.0
    card, strip = overlay.regions
    for i in range(180):  # drawn on every frame: white text (or the dark box), the timeline
        assert card.view(diff[i]).max() > 100 and strip.view(diff[i]).mean() > 10, i


def test_codec_and_container_options(demo_media, tmp_path, capsys):
    out = tmp_path / "demo.mkv"
    stderr = demo(capsys, demo_media["plain"], out, demo_media["plain.json"], "--codec", "mpeg4",
                  "--topk", "1")
    assert video_codec(out) == "mpeg4" and "audio copied" in stderr
    assert probe(out).frame_count == 180
    out = tmp_path / "default.mp4"
    demo(capsys, demo_media["plain"], out, demo_media["plain.json"], "--crf", "35")
    assert video_codec(out) == "h264"


def test_audio_that_the_container_cannot_hold_is_re_encoded(demo_media, tmp_path, capsys):
    out = tmp_path / "demo.webm"  # WebM takes no AAC: the sound becomes Opus
    stderr = demo(capsys, demo_media["plain"], out, demo_media["plain.json"],
                  "--codec", "libvpx-vp9", "--crf", "40")
    assert "audio re-encoded" in stderr
    assert video_codec(out) == "vp9" and probe(out).frame_count == 180
    assert abs(len(decode_audio(out)) - len(decode_audio(demo_media["plain"]))) < 16000 * 0.05


def one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("case,args,code,says", [
    ("missing video", "{tmp}/nope.mp4 {out} --from-json {json}", 1, "{tmp}/nope.mp4: file not found"),
    ("json of another video", "{src} {out} --from-json {other}", 2,
     "{other}: describes a 3.00 s video"),
    ("unknown codec", "{src} {out} --from-json {json} --codec h265x", 2, "--codec h265x"),
    ("crf out of range", "{src} {out} --from-json {json} --crf 99", 2, "--crf 99"),
    ("webm with h264", "{src} {tmp}/out.webm --from-json {json}", 2, "WebM holds VP8/VP9/AV1"),
    ("output is the input", "{src} {src} --from-json {json}", 2, "overwrite the input"),
    ("output is the json", "{src} {json} --from-json {json}", 2, "overwrite the input"),
    ("unknown container", "{src} {tmp}/out.gif --from-json {json}", 2, "container '.gif'"),
])
def test_bad_input(case, args, code, says, demo_media, tmp_path, capsys):
    from tests.mediacheck import hand_analysis

    src, js = demo_media["plain"], demo_media["plain.json"]
    other = tmp_path / "other.json"
    other.write_bytes(hand_analysis(src, 3.0, [("doggy", 0.9)], 3.0, ["doggy"]).to_json())
    names = {"src": src, "json": js, "other": other, "out": tmp_path / "out.mp4", "tmp": tmp_path}
    before = src.read_bytes(), js.read_bytes()
    got, _, err = run_phar(["demo", *args.format(**names).split()], capsys)
    assert got == code
    assert says.format(**names) in one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json"]
    assert (src.read_bytes(), js.read_bytes()) == before


def test_an_encoder_that_fails_leaves_nothing(demo_media, tmp_path, capsys):
    from phar_cli.media.video_writer import available_encoders

    if "h264_nvenc" not in available_encoders():
        pytest.skip("this ffmpeg has no h264_nvenc to fail with")
    if shutil.which("nvidia-smi"):
        pytest.skip("an NVIDIA driver is present: nvenc might work")
    out = tmp_path / "demo.mp4"
    got, _, err = run_phar(["-q", "demo", demo_media["plain"], out, "--from-json",
                            demo_media["plain.json"], "--codec", "h264_nvenc"], capsys)
    assert got == 1
    assert one_line(err).startswith(f"error: {out}: encoding failed: [h264_nvenc] ")  # the cause
    assert list(tmp_path.iterdir()) == []


def test_odd_size_non_square_pixels_and_no_audio(tmp_path, capsys):
    """A 161x121 test pattern with 484:483 pixels and no sound: same size (4:4:4, which takes
    odd sizes), same pixel shape, no audio track invented."""
    import subprocess

    from phar_cli.media.ffmpeg import ffmpeg_cmd
    from tests.mediacheck import hand_analysis, header

    src = tmp_path / "odd.mp4"
    subprocess.run(ffmpeg_cmd(["-loglevel", "error", "-f", "lavfi", "-i",
                               "testsrc2=size=160x120:rate=25:duration=3", "-vf",
                               "scale=161:121,setsar=484/483:max=1000", "-c:v", "libx264",
                               "-preset", "ultrafast", "-pix_fmt", "yuv444p", str(src)]), check=True)
    preds = tmp_path / "odd.json"
    preds.write_bytes(hand_analysis(src, 3.0, [("doggy", 0.9)], 3.0, ["doggy", "kissing"],
                                    size=(161, 121)).to_json())
    out = tmp_path / "demo.mp4"
    stderr = demo(capsys, src, out, preds)
    assert "audio none" in stderr
    info = probe(out)
    assert (info.width, info.height, info.frame_count, info.has_audio) == (161, 121, 75, False)
    assert "161x121 [SAR 484:483 DAR 4:3]" in header(out)
