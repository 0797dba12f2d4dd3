"""`phar stash pull`: people's markers as the annotations CSV `phar prepare-data` reads, read
back here with the very reader prepare-data uses."""
from __future__ import annotations

import json

from phar_cli.data.annotations import read_annotations
from phar_cli.spans import Span

from tests.stash.conftest import phar, write_predictions

K, F = ("kissing", 0.9), ("fondling", 0.8)


def test_exports_what_people_made_corrected_and_flagged(stash, tmp_path, capsys):
    videos = tmp_path / "videos"
    (videos / "sub").mkdir(parents=True)
    for name in ("a.mp4", "sub/b.mp4"):
        (videos / name).write_bytes(b"video")
    a = stash.add_scene("/data/a.mp4", duration=28.0)
    b = stash.add_scene("/data/sub/b.mp4", duration=10.0)
    for scene, name, tops in ((a, "a", [K, K, F, K]), (b, "sub/b", [F])):
        write_predictions(tmp_path / "in" / f"{name}.json", videos / f"{name}.mp4", tops)
    maps = ["--path-map", f"{videos}=/data"]
    assert phar(capsys, "push", tmp_path / "in", "--url", stash.url, *maps)[0] == 0
    kissing, fondling = stash.tag_named("kissing").id, stash.tag_named("fondling").id
    phar_tag, incorrect = stash.tag_named("phar").id, stash.tag_named("phar: incorrect").id
    first, second, third = stash.markers_of(a)   # kissing 0-14, fondling 14-21, kissing 21-28
    stash.edit_marker(str(first.id), end_seconds=12.5)                       # corrected
    stash.edit_marker(str(second.id), tag_ids=[str(phar_tag), str(incorrect)])  # flagged wrong
    stash.add_marker(b, 1.0, kissing, 4.0, "mine")                           # a person's own
    stash.add_marker(b, 6.0, fondling, None, "a point")                      # no end time
    stash.add_marker(b, 8.0, stash.add_tag("favourite"), 9.0, "not a label")

    out_csv = tmp_path / "pulled.csv"
    code, out, err = phar(capsys, "pull", "-o", out_csv, "--url", stash.url, *maps)
    assert code == 0, err
    assert "1 point markers (no end time) left out" in err
    assert "wrote 3 annotations (2 from people's markers, 1 negatives" in out
    got = read_annotations(out_csv, videos, labels=["kissing", "fondling", "incorrect"])
    assert not got.problems
    assert [(x.video, x.span, x.label) for x in got] == [
        ("a.mp4", Span(0.0, 12.5), "kissing"), ("a.mp4", Span(14.0, 21.0), "incorrect"),
        ("sub/b.mp4", Span(1.0, 4.0), "kissing")]
    assert f"{third.id}" not in out_csv.read_text().split()   # phar's own guess, untouched

    code, out, err = phar(capsys, "pull", "-o", out_csv, "--url", stash.url, *maps,
                          "--point-seconds", "4", "--json")
    assert json.loads(out)["counts"]["points_widened"] == 1
    got = read_annotations(out_csv, videos, labels=["kissing", "fondling", "incorrect"])
    assert ("sub/b.mp4", Span(4.0, 8.0), "fondling") in [(x.video, x.span, x.label) for x in got]


def test_point_windows_stay_inside_the_video(stash, tmp_path, capsys):
    scene = stash.add_scene("/v/c.mp4", duration=10.0)
    tag = stash.add_tag("kissing")
    stash.add_marker(scene, 0.5, tag, None, "start")
    stash.add_marker(scene, 9.8, tag, None, "end")
    out_csv = tmp_path / "p.csv"
    assert phar(capsys, "pull", "-o", out_csv, "--url", stash.url, "--point-seconds", "3")[0] == 0
    rows = out_csv.read_text().splitlines()[1:]
    assert [r.split(",")[1:4] for r in rows] == [["0.0", "2.0", "kissing"],
                                                  ["8.3", "10.0", "kissing"]]


def test_settings_name_the_tags_and_the_negative_label(stash, tmp_path, capsys):
    scene = stash.add_scene("/v/d.mp4", duration=30.0)
    settings = tmp_path / "s.toml"
    settings.write_text('parent_tag = "AI"\nnegative_label = "background"\n'
                        '[labels.kissing]\ntag = "Kiss"\n')
    kiss, flag = stash.add_tag("Kiss"), stash.add_tag("AI: incorrect")
    stash.add_marker(scene, 1.0, kiss, 2.0, "mine")
    stash.add_marker(scene, 5.0, kiss, 9.0, "wrong", tag_ids=(flag,))
    out_csv = tmp_path / "p.csv"
    code, out, err = phar(capsys, "pull", "-o", out_csv, "--url", stash.url, "--settings", settings)
    assert code == 0, err
    rows = [r.split(",") for r in out_csv.read_text().splitlines()]
    assert rows[0] == ["video", "start", "end", "label", "kind", "tag", "marker"]
    assert [r[:6] for r in rows[1:]] == [["/v/d.mp4", "1.0", "2.0", "kissing", "positive", "Kiss"],
                                         ["/v/d.mp4", "5.0", "9.0", "background", "negative", "Kiss"]]


def test_an_output_in_a_missing_folder_is_a_usage_error(stash, tmp_path, capsys):
    code, out, err = phar(capsys, "pull", "-o", tmp_path / "no" / "p.csv", "--url", stash.url)
    assert code == 2 and "does not exist" in err and stash.requests == []
