"""`phar filter` end to end from a hand-written predictions JSON: both modes keep exactly the
intended scenes (decoded colour per frame, tone per second), copy mode cuts on keyframes."""
from __future__ import annotations

import orjson
import pytest

from phar_cli.media.probe import probe

from tests.conftest import run_phar
from tests.filter.conftest import expected_colours, expected_tones
from tests.mediacheck import (decode_audio, decode_frames, packet_hashes, runs, scene_colours,
                              tones_per_second, AUDIO_RATE)


def keyframe_times(path) -> set[float]:
    """Independently of phar's own reader: decord's keyframe indices at 30 fps."""
    from decord import VideoReader

    return {round(i / 30, 6) for i in VideoReader(str(path)).get_key_indices()}


def cut(scenes, preds, out, capsys, *args):
    code, stdout, stderr = run_phar(["filter", scenes, out, "--from-json", preds,
                                     "--segments-out", out.with_suffix(".json"),
                                     "--preset", "ultrafast", *args], capsys)
    assert code == 0, stderr
    report = orjson.loads(out.with_suffix(".json").read_bytes())
    return [(s["start"], s["end"]) for s in report["segments"]], report, stdout, stderr


def content(path):
    frames = decode_frames(path, 160, 120)
    return runs(scene_colours(frames)), tones_per_second(decode_audio(path)), len(frames)


@pytest.mark.parametrize("mode", ["exact", "copy"])
def test_both_modes_keep_exactly_the_marked_scenes_first_and_last_included(
        mode, scenes, marked, tmp_path, capsys):
    out = tmp_path / f"cut-{mode}.mp4"
    used, report, stdout, stderr = cut(scenes, marked("KDKKDK"), out, capsys, "--mode", mode)
    keep = [(0.0, 2.0), (4.0, 8.0), (10.0, 12.0)]
    assert used == keep
    assert report["mode"] == mode and report["kept_seconds"] == 8.0
    colours, tones, n = content(out)
    assert colours == expected_colours(keep) == [("red", 60), ("blue", 60), ("yellow", 60),
                                                 ("magenta", 60)]
    assert tones == expected_tones(keep)
    assert abs(len(decode_audio(out)) / AUDIO_RATE - n / 30) < 0.05   # A/V end together
    assert "3 kept segments" in stderr and f"wrote {out} (8.0 s of 12.0 s kept" in stdout


def test_exact_mode_cuts_on_frames_not_keyframes(scenes, marked, tmp_path, capsys):
    out = tmp_path / "margin.mp4"
    used, _, _, _ = cut(scenes, marked("KDDKDK"), out, capsys, "--margin", "0.3")
    keep = [(0.0, 2.3), (5.7, 8.3), (9.7, 12.0)]    # on frames: 69/30 s, 171/30 s, ...
    assert used == keep
    colours, _, n = content(out)
    assert n == 69 + 78 + 69
    assert colours == expected_colours(keep) == [
        ("red", 60), ("green", 9), ("blue", 9), ("yellow", 60), ("cyan", 18), ("magenta", 60)]
    assert abs(len(decode_audio(out)) / AUDIO_RATE - n / 30) < 0.05


@pytest.mark.parametrize("snap,keep", [
    ("outward", [(0.0, 3.0), (5.0, 12.0)]),     # 0-2.3, 5.7-8.3, 9.7-12 grown to keyframes
    ("inward", [(0.0, 2.0), (6.0, 8.0), (10.0, 12.0)]),
])
def test_copy_mode_snaps_to_keyframes_and_reports_the_times_used(
        snap, keep, scenes, marked, tmp_path, capsys):
    out = tmp_path / f"snap-{snap}.mp4"
    used, report, _, stderr = cut(scenes, marked("KDDKDK"), out, capsys, "--mode", "copy",
                                  "--margin", "0.3", "--snap", snap)
    assert used == keep
    keys = keyframe_times(scenes) | {12.0}
    assert all(round(t, 6) in keys for span in used for t in span)
    assert [(p["start"], p["end"]) for p in report["planned"]] == [(0.0, 2.3), (5.7, 8.3),
                                                                   (9.7, 12.0)]
    colours, tones, _ = content(out)
    assert colours == expected_colours(keep)
    assert tones == expected_tones(keep)
    assert "planned" in stderr


def test_a_real_keyframe_set_is_what_phar_reads(scenes):
    from phar_cli.media.cut import keyframe_times as phar_keyframes

    assert set(round(t, 6) for t in phar_keyframes(scenes)) == keyframe_times(scenes) \
        == {float(s) for s in range(12)}


@pytest.mark.parametrize("marks,args,keep", [
    ("KDKDDK", ["--max-gap", "2"], [(0.0, 6.0), (10.0, 12.0)]),     # 2 s gap filled, 4 s not
    ("KDKDDK", ["--max-gap", "1.5"], [(0.0, 2.0), (4.0, 6.0), (10.0, 12.0)]),
    ("KDKKDK", ["--min-segment", "3"], [(4.0, 8.0)]),               # 2 s segments dropped
    ("KBKKDK", ["--keep", "blowjob"], [(2.0, 4.0)]),
    ("KBKKDK", ["--drop", "doggy"], [(2.0, 4.0)]),
])
def test_smoothing_and_label_choices(marks, args, keep, scenes, marked, tmp_path, capsys):
    out = tmp_path / "smooth.mp4"
    used, _, _, _ = cut(scenes, marked(marks), out, capsys, *args)
    assert used == keep
    colours, tones, _ = content(out)
    assert colours == expected_colours(keep)
    assert tones == expected_tones(keep)


def test_everything_kept_is_said_and_the_streams_are_copied(scenes, marked, tmp_path, capsys):
    out = tmp_path / "all.mp4"
    used, report, stdout, _ = cut(scenes, marked("KKBKKK"), out, capsys)
    assert used == [(0.0, 12.0)] and report["mode"] == "whole"
    assert "everything is kept (no window is dropped)" in stdout
    for stream in ("v:0", "a:0"):
        assert packet_hashes(out, stream) == packet_hashes(scenes, stream)


def test_copy_snapping_that_covers_everything_copies_the_whole_video(scenes, marked, tmp_path,
                                                                      capsys):
    out = tmp_path / "snapped-all.mp4"
    used, _, stdout, _ = cut(scenes, marked("KDKKDK"), out, capsys, "--mode", "copy",
                             "--margin", "0.5")
    assert used == [(0.0, 12.0)]
    assert "everything is kept (cut points snapped to keyframes)" in stdout
    assert probe(out).frame_count == 360


def test_nothing_to_keep_is_an_error_and_writes_nothing(scenes, marked, tmp_path, capsys):
    out = tmp_path / "none.mp4"
    code, stdout, stderr = run_phar(["filter", scenes, out, "--from-json", marked("DODDDD"),
                                     "--segments-out", tmp_path / "none.json"], capsys)
    assert code == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert f"{scenes}: nothing to keep (6 of 6 windows dropped: 5 under --threshold 0.50, " \
           "1 with label other (non-sexual)); nothing written" in lines[0]
    assert list(tmp_path.iterdir()) == [tmp_path / "preds.json"]


@pytest.mark.parametrize("fmt", ["csv", "edl"])
def test_segments_out_csv_and_edl_list_the_kept_times(fmt, scenes, marked, tmp_path, capsys):
    out = tmp_path / "cut.mp4"
    listing = tmp_path / f"kept.{fmt}"
    code, _, stderr = run_phar(["-q", "filter", scenes, out, "--from-json", marked("KDKKDK"),
                                "--mode", "copy", "--segments-out", listing], capsys)
    assert code == 0, stderr
    text = listing.read_text()
    if fmt == "csv":
        assert text.splitlines() == ["label,start,end,score,coverage",
                                     "doggy,0.000,2.000,0.9000,1.0000",
                                     "doggy,4.000,8.000,0.9000,1.0000",
                                     "doggy,10.000,12.000,0.9000,1.0000"]
    else:  # source in/out, and the record side laid end to end: the cut file itself
        assert "001  AX       V     C        00:00:00:00 00:00:02:00 00:00:00:00 00:00:02:00" in text
        assert "003  AX       V     C        00:00:10:00 00:00:12:00 00:00:06:00 00:00:08:00" in text


def test_inward_snapping_that_leaves_nothing_is_nothing_to_keep(scenes, tmp_path, capsys):
    from tests.filter.conftest import LABELS
    from tests.mediacheck import hand_analysis

    tops = [("doggy", 0.2)] * 24
    tops[3] = ("doggy", 0.9)          # 0.5 s windows: only 1.5-2.0 s kept, no whole GOP inside
    preds = tmp_path / "preds.json"
    preds.write_bytes(hand_analysis(scenes, 12.0, tops, 0.5, LABELS).to_json())
    out = tmp_path / "none.mp4"
    code, _, err = run_phar(["-q", "filter", scenes, out, "--from-json", preds, "--mode", "copy",
                             "--snap", "inward"], capsys)
    assert code == 1
    assert "nothing to keep (no kept range holds a whole GOP to snap inward to" in err
    assert not out.exists() and not list(tmp_path.glob(".*"))
