"""Reading annotations: VIA 3 project JSON, VIA CSV exports (one file or the seed's folder of
per-video files), plain CSV; and every problem reported, never raised."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from phar_cli.spans import Span
from phar_cli.data.annotations import (PROBLEM_KINDS, Annotation, Problem, parse_time,
                                       read_annotations)
from phar_cli.errors import AnnotationError, PharError, UsageError, VideoOpenError

LABELS = ["doggy", "blowjob", "the-snake", "facial-cumshot", "69", "anal"]
ACTIVITY = {"1": {"aname": "Activity", "anchor_id": "FILE1_Z2_XY0", "type": 4, "desc": "Activity",
                  "options": {"0": "doggy", "1": "blowjob", "2": "the_snake"},
                  "default_option_id": ""}}


@pytest.fixture
def videos(tmp_path) -> Path:
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("12.mp4", "13.mkv", "14.mp4", "clip one.webm"):
        (folder / name).write_bytes(b"")
    return folder


def durations(**seconds: float):
    """A stand-in for phar's probe: duration by file name ('_' for '.')."""
    table = {name.replace("_", "."): value for name, value in seconds.items()}
    return lambda path: table[Path(path).name]


def obj2csv(value) -> str:
    """VIA's `_via_util_obj2csv`: the JSON text, quoted as one RFC 4180 field."""
    return '"' + json.dumps(value, separators=(",", ":")).replace('"', '""') + '"'


def via_csv(path: Path, rows: list[tuple], attributes: dict | None = None) -> Path:
    """A VIA 3 CSV export (`export_to_via3_csv`); rows are (file, z, xy, av)."""
    lines = [
        "# Exported using VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)",
        "# Notes:",
        "# - spatial_coordinates of [2,10,20,50,80] denotes a rectangle (shape_id=2) of size "
        "50x80 placed at (10,20)",
        "# - temporal coordinate of [1.349,2.741] denotes a temporal segment from time 1.346 sec. "
        "to 2.741 sec.",
        "# - temporal coordinate of [4.633] denotes a still video frame at 4.633 sec.",
        '# - metadata of {""1"":""3""} indicates attribute with id "1" set to an attribute option '
        'with id "3"',
        '# SHAPE_ID = {"POINT":1,"RECTANGLE":2,"CIRCLE":3,"ELLIPSE":4,"LINE":5,"POLYLINE":6,'
        '"POLYGON":7,"EXTREME_RECTANGLE":8,"EXTREME_CIRCLE":9}',
        '# FLAG_ID = {"RESERVED_FOR_FUTURE":1}',
        "# ATTRIBUTE = " + json.dumps(attributes if attributes is not None else ACTIVITY,
                                      separators=(",", ":")),
        "# CSV_HEADER = metadata_id,file_list,flags,temporal_coordinates,spatial_coordinates,"
        "metadata",
    ]
    for n, (file, z, xy, av) in enumerate(rows):
        lines.append(",".join([f'"1_m{n:07d}"', obj2csv([file]), "0", obj2csv(z), obj2csv(xy),
                               obj2csv(av)]))
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def via_project(path: Path, files: list[str], metadata: dict, attributes: dict | None = None
                ) -> Path:
    """A VIA 3 project as the video annotator saves it."""
    project = {
        "project": {"pid": "__VIA_PROJECT_ID__", "rev": "__VIA_PROJECT_REV_ID__",
                    "rev_timestamp": "__VIA_PROJECT_REV_TIMESTAMP__", "pname": "phar",
                    "creator": "VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)",
                    "created": 1617182455000,
                    "vid_list": [str(i + 1) for i in range(len(files))]},
        "config": {"file": {"loc_prefix": {"1": "", "2": "", "3": "", "4": ""}},
                   "ui": {"file_content_align": "center", "file_metadata_editor_visible": True,
                          "spatial_metadata_editor_visible": True,
                          "temporal_segment_metadata_editor_visible": True,
                          "spatial_region_label_attribute_id": "",
                          "gtimeline_visible_row_count": "4"}},
        "attribute": attributes if attributes is not None else ACTIVITY,
        "file": {str(i + 1): {"fid": str(i + 1), "fname": name, "type": 4, "loc": 1, "src": ""}
                 for i, name in enumerate(files)},
        "metadata": metadata,
        "view": {str(i + 1): {"fid_list": [str(i + 1)]} for i in range(len(files))},
    }
    path.write_text(json.dumps(project), encoding="utf-8")
    return path


def spans(result) -> list[tuple[str, float, float, str]]:
    return [(a.video, a.span.start, a.span.end, a.label) for a in result]


def kinds(result) -> list[str]:
    return [p.kind for p in result.problems]


# --- time formats -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("12", 12.0), ("12.5", 12.5), (" 7.25 ", 7.25), ("01:02", 62.0), ("1:02.5", 62.5),
    ("00:01:02.250", 62.25), ("1:00:00", 3600.0), ("0", 0.0), ("-0.2", -0.2)])
def test_parse_time_reads_seconds_and_clock_times(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "1:2:3:4", "00:61", "1:-2", "nan", "inf", "1.5:00"])
def test_parse_time_rejects_what_is_not_a_time(text):
    with pytest.raises(ValueError):
        parse_time(text)


# --- plain CSV ----------------------------------------------------------------------------------

def test_plain_csv_with_seconds_and_clock_times(tmp_path, videos):
    path = tmp_path / "ann.csv"
    path.write_text("video,start,end,label\n"
                    "12.mp4,0,20.5,doggy\n"
                    "13,00:00:05,00:01:00.250,Facial_Cumshot\n"
                    "clip one,1:00,1:30,the_snake\n", encoding="utf-8")
    result = read_annotations(path, videos, labels=LABELS)
    assert result.problems == []
    assert spans(result) == [("12.mp4", 0.0, 20.5, "doggy"),
                             ("13.mkv", 5.0, 60.25, "facial-cumshot"),
                             ("clip one.webm", 60.0, 90.0, "the-snake")]
    assert result.videos == {"12.mp4": videos / "12.mp4", "13.mkv": videos / "13.mkv",
                             "clip one.webm": videos / "clip one.webm"}
    assert result.sources == [path]
    assert result.labels == ["doggy", "facial-cumshot", "the-snake"]


def test_plain_csv_columns_in_any_order_with_extra_ones(tmp_path, videos):
    path = tmp_path / "ann.csv"
    path.write_text("Label,End,note,Start,Video\nanal,9,x,2,14\n", encoding="utf-8")
    assert spans(read_annotations(path, videos)) == [("14.mp4", 2.0, 9.0, "anal")]


def test_underscore_and_dash_spellings_are_one_label(tmp_path, videos):
    path = tmp_path / "ann.csv"
    path.write_text("video,start,end,label\n12,0,10,the_snake\n12,10,20,The-Snake\n",
                    encoding="utf-8")
    # the label map spells it with '_', the file both ways: all one label, merged (touching)
    result = read_annotations(path, videos, labels=["the_snake"])
    assert spans(result) == [("12.mp4", 0.0, 20.0, "the-snake")]
    assert result.problems == []


def test_a_written_extension_may_differ_from_the_file(tmp_path, videos):
    path = tmp_path / "ann.csv"
    path.write_text("video,start,end,label\n13.mp4,0,10,doggy\n", encoding="utf-8")
    assert spans(read_annotations(path, videos)) == [("13.mkv", 0.0, 10.0, "doggy")]


def test_without_a_videos_folder_videos_stay_as_written(tmp_path):
    path = tmp_path / "ann.csv"
    path.write_text("video,start,end,label\n99,0,10,doggy\n", encoding="utf-8")
    result = read_annotations(path, None, duration_of=lambda p: 1.0)  # nothing to probe
    assert spans(result) == [("99", 0.0, 10.0, "doggy")]
    assert result.videos == {} and result.problems == []


# --- VIA 3 project JSON -------------------------------------------------------------------------

def test_via_project_with_option_ids(tmp_path, videos):
    path = via_project(tmp_path / "project.json", ["12.mp4", "13.mkv"], {
        "1_aaaaaaaa": {"vid": "1", "flg": 0, "z": [0.5, 20.25], "xy": [], "av": {"1": "0"}},
        "1_bbbbbbbb": {"vid": "1", "flg": 0, "z": [30, 45.5], "xy": [], "av": {"1": "2"}},
        "2_cccccccc": {"vid": "2", "flg": 0, "z": [3, 17], "xy": [], "av": {"1": "1"}},
    })
    result = read_annotations(path, videos, labels=LABELS)
    assert result.problems == []
    assert spans(result) == [("12.mp4", 0.5, 20.25, "doggy"), ("12.mp4", 30.0, 45.5, "the-snake"),
                             ("13.mkv", 3.0, 17.0, "blowjob")]


def test_via_project_with_free_text_labels(tmp_path, videos):
    text_attr = {"1": {"aname": "Activity", "anchor_id": "FILE1_Z2_XY0", "type": 1,
                       "desc": "Activity", "options": {}, "default_option_id": ""}}
    path = via_project(tmp_path / "project.json", ["12.mp4"], {
        "1_a": {"vid": "1", "flg": 0, "z": [1, 9], "xy": [], "av": {"1": "doggy"}},
        "1_b": {"vid": "1", "flg": 0, "z": [9.5, 12], "xy": [], "av": {"1": "Facial_Cumshot"}},
    }, attributes=text_attr)
    assert spans(read_annotations(path, videos, labels=LABELS)) == [
        ("12.mp4", 1.0, 9.0, "doggy"), ("12.mp4", 9.5, 12.0, "facial-cumshot")]


def test_via_project_skips_spatial_regions_and_file_attributes(tmp_path, videos):
    path = via_project(tmp_path / "project.json", ["12.mp4"], {
        "1_seg": {"vid": "1", "flg": 0, "z": [1, 9], "xy": [], "av": {"1": "0"}},
        "1_box": {"vid": "1", "flg": 0, "z": [4.2], "xy": [2, 10, 20, 50, 80], "av": {"1": "1"}},
        "1_file": {"vid": "1", "flg": 0, "z": [], "xy": [], "av": {"1": "1"}},
        "1_point": {"vid": "1", "flg": 0, "z": [4.633], "xy": [], "av": {"1": "1"}},
    })
    result = read_annotations(path, videos)
    assert spans(result) == [("12.mp4", 1.0, 9.0, "doggy")]
    assert result.problems == [Problem("empty", f"{path}: metadata 1_point",
                                       "a single time point, not a segment; dropped")]


def test_via_project_picks_the_label_attribute(tmp_path, videos):
    attrs = dict(ACTIVITY)
    attrs["2"] = {"aname": "Comment", "anchor_id": "FILE1_Z0_XY0", "type": 1, "desc": "",
                  "options": {}, "default_option_id": ""}
    attrs["3"] = {"aname": "Who", "anchor_id": "FILE1_Z2_XY0", "type": 1, "desc": "",
                  "options": {}, "default_option_id": ""}
    meta = {"1_a": {"vid": "1", "flg": 0, "z": [1, 9], "xy": [], "av": {"2": "nice", "1": "0"}},
            "1_b": {"vid": "1", "flg": 0, "z": [10, 19], "xy": [], "av": {"3": "x", "1": "1"}}}
    path = via_project(tmp_path / "project.json", ["12.mp4"], meta, attributes=attrs)
    # 1_a: one of its two attributes is anchored on temporal segments; 1_b: both are, so the
    # name 'Activity' decides
    assert spans(read_annotations(path, videos)) == [("12.mp4", 1.0, 9.0, "doggy"),
                                                     ("12.mp4", 10.0, 19.0, "blowjob")]
    assert spans(read_annotations(path, videos, label_attribute="who")) == [
        ("12.mp4", 10.0, 19.0, "x")]


def test_via_project_with_two_label_like_attributes_asks_which(tmp_path, videos):
    attrs = {aid: {"aname": name, "anchor_id": "FILE1_Z2_XY0", "type": 1, "options": {}}
             for aid, name in (("1", "Position"), ("2", "Camera"))}
    path = via_project(tmp_path / "project.json", ["12.mp4"], {
        "1_a": {"vid": "1", "flg": 0, "z": [1, 9], "xy": [], "av": {"1": "doggy", "2": "pov"}}},
        attributes=attrs)
    result = read_annotations(path, videos)
    assert spans(result) == []
    assert kinds(result) == ["malformed"]
    assert "several attributes (Position, Camera)" in result.problems[0].detail
    assert spans(read_annotations(path, videos, label_attribute="Position")) == [
        ("12.mp4", 1.0, 9.0, "doggy")]


def test_via_project_that_is_not_json_or_not_via(tmp_path, videos):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"bad\.json: not JSON"):
        read_annotations(bad, videos)
    via2 = tmp_path / "via2.json"
    via2.write_text(json.dumps({"12.mp4123": {"filename": "12.mp4", "regions": []}}))
    with pytest.raises(AnnotationError, match=r"via2\.json: not a VIA 3 project"):
        read_annotations(via2, videos)


# --- VIA CSV exports ----------------------------------------------------------------------------

def test_one_via_csv_export_names_its_videos_in_file_list(tmp_path, videos):
    path = via_csv(tmp_path / "export.csv", [
        ("12.mp4", [1.349, 20.741], [], {"1": "0"}),
        ("13.mkv", [0, 7], [], {"1": "the_snake"}),   # free text in a select attribute
        ("12.mp4", [4.633], [2, 10, 20, 50, 80], {"1": "1"}),  # a box on a frame: not ours
    ])
    result = read_annotations(path, videos, labels=LABELS)
    assert result.problems == []
    assert spans(result) == [("12.mp4", 1.349, 20.741, "doggy"), ("13.mkv", 0.0, 7.0, "the-snake")]


def test_the_older_via_3_0_export_with_attribute_names_only(tmp_path, videos):
    # VIA 3.0.0 (the seed's annotator) wrote `# ATTRIBUTES = {id: name}` and free-text labels;
    # the file here also has a BOM and Windows line ends
    lines = [
        "# Exported using VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)",
        '# SHAPE_ID = {"POINT":1,"RECTANGLE":2,"CIRCLE":3,"ELLIPSE":4,"LINE":5,"POLYLINE":6,'
        '"POLYGON":7,"EXTREME_RECTANGLE":8,"EXTREME_CIRCLE":9}',
        '# FLAG_ID = {"RESERVED_FOR_FUTURE":1}',
        '# ATTRIBUTES = {"1":"Activity"}',
        "# CSV_HEADER = metadata_id,file_list,flags,temporal_coordinates,spatial_coordinates,"
        "metadata",
        f'"1_Ab3dE5gH",{obj2csv(["12.mp4"])},0,{obj2csv([12.5, 31.0])},"[]",'
        f'{obj2csv({"1": "the-snake"})}',
    ]
    path = tmp_path / "12.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))
    result = read_annotations(path, videos, labels=LABELS)
    assert result.problems == []
    assert spans(result) == [("12.mp4", 12.5, 31.0, "the-snake")]


def test_a_via_export_without_segments_is_empty_not_an_error(tmp_path, videos):
    path = via_csv(tmp_path / "export.csv", [])
    result = read_annotations(path, videos)
    assert len(result) == 0 and result.problems == []


def test_the_seeds_folder_of_per_video_csvs(tmp_path, videos):
    folder = tmp_path / "annotations"
    folder.mkdir()
    # the seed's layout: the CSV is named after the video; file_list may carry another name
    via_csv(folder / "12.csv", [("renamed-later.mp4", [0, 30], [], {"1": "0"}),
                                ("renamed-later.mp4", [40, 50.5], [], {"1": "1"})])
    via_csv(folder / "14.csv", [("14.mp4", [5, 12], [], {"1": "2"})])
    # no video named like this CSV: file_list is the fallback
    via_csv(folder / "exported-13.csv", [("13.mkv", [2, 9], [], {"1": "0"})])
    result = read_annotations(folder, videos, labels=LABELS)
    assert result.problems == []
    assert spans(result) == [("12.mp4", 0.0, 30.0, "doggy"), ("12.mp4", 40.0, 50.5, "blowjob"),
                             ("13.mkv", 2.0, 9.0, "doggy"), ("14.mp4", 5.0, 12.0, "the-snake")]
    assert result.sources == [folder / "12.csv", folder / "14.csv", folder / "exported-13.csv"]


def test_a_folder_of_csvs_in_subfolders_prefers_the_video_beside_it(tmp_path):
    videos = tmp_path / "videos"
    for sub in ("a", "b"):
        (videos / sub).mkdir(parents=True)
        (videos / sub / "1.mp4").write_bytes(b"")
    anns = tmp_path / "anns"
    (anns / "b").mkdir(parents=True)
    via_csv(anns / "b" / "1.csv", [("1.mp4", [0, 8], [], {"1": "0"})])
    result = read_annotations(anns, videos)
    assert spans(result) == [("b/1.mp4", 0.0, 8.0, "doggy")]
    assert result.videos == {"b/1.mp4": videos / "b" / "1.mp4"}


def test_a_folder_with_one_unreadable_csv_reports_it_and_reads_the_rest(tmp_path, videos):
    folder = tmp_path / "annotations"
    folder.mkdir()
    via_csv(folder / "12.csv", [("12.mp4", [0, 8], [], {"1": "0"})])
    (folder / "13.csv").write_text("what,is,this\n1,2,3\n", encoding="utf-8")
    result = read_annotations(folder, videos)
    assert spans(result) == [("12.mp4", 0.0, 8.0, "doggy")]
    assert kinds(result) == ["malformed"]
    assert result.problems[0].source == str(folder / "13.csv")
    assert "file skipped" in result.problems[0].detail


def test_a_folder_without_readable_csvs_raises(tmp_path, videos):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AnnotationError, match="no CSV annotation files"):
        read_annotations(empty, videos)
    (empty / "x.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match="could be read"):
        read_annotations(empty, videos)


def test_via_temporal_segments_csv_export(tmp_path, videos):
    path = tmp_path / "segments.csv"
    path.write_text(
        "# Exported using VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)\n"
        "# CSV_HEADER = metadata_id,file_list,temporal_segment_start,temporal_segment_end,"
        "metadata\n"
        f'"1_a",{obj2csv(["12.mp4"])},1.5,9.25,{obj2csv({"Activity": "doggy"})}\n',
        encoding="utf-8")
    assert spans(read_annotations(path, videos)) == [("12.mp4", 1.5, 9.25, "doggy")]


def test_a_csv_with_wrong_columns_raises_naming_the_file(tmp_path, videos):
    path = tmp_path / "wrong.csv"
    path.write_text("file,from,to,action\n12,0,1,doggy\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"wrong\.csv: neither a VIA CSV export") as info:
        read_annotations(path, videos)
    assert "file,from,to,action" in str(info.value)
    assert isinstance(info.value, PharError)


def test_missing_or_binary_annotation_files_raise(tmp_path, videos):
    with pytest.raises(AnnotationError, match="not found"):
        read_annotations(tmp_path / "nope.csv", videos)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81video")
    with pytest.raises(AnnotationError, match="not a UTF-8 text file"):
        read_annotations(binary, videos)


def test_a_missing_videos_folder_is_a_usage_error(tmp_path):
    path = tmp_path / "ann.csv"
    path.write_text("video,start,end,label\n12,0,10,doggy\n", encoding="utf-8")
    with pytest.raises(UsageError, match="videos folder not found"):
        read_annotations(path, tmp_path / "no-such-folder")


# --- problems -----------------------------------------------------------------------------------

def plain(tmp_path, *rows: str) -> Path:
    path = tmp_path / "ann.csv"
    path.write_text("video,start,end,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_malformed_rows_are_reported_with_their_line(tmp_path, videos):
    path = plain(tmp_path,
                 "12,0,10,doggy",        # line 2: fine
                 "12,abc,20,doggy",      # line 3: bad time
                 "12,30",                # line 4: too few columns
                 "12,40,50,",            # line 5: no label
                 ",40,50,doggy",         # line 6: no video
                 "12,60,55,doggy")       # line 7: ends before it starts
    result = read_annotations(path, videos)
    assert spans(result) == [("12.mp4", 0.0, 10.0, "doggy")]
    assert [(p.kind, p.source) for p in result.problems] == [
        ("malformed", f"{path}:{n}") for n in (3, 4, 5, 6, 7)]
    details = [p.detail for p in result.problems]
    assert "not a time: 'abc'" in details[0]
    assert "2 columns, the header has 4" in details[1]
    assert "no label" in details[2] and "no video" in details[3]
    assert "ends before it starts" in details[4]


def test_malformed_via_csv_rows(tmp_path, videos):
    path = via_csv(tmp_path / "export.csv", [("12.mp4", [0, 8], [], {"1": "0"})])
    with path.open("a", encoding="utf-8") as f:
        f.write('\n"1_x","[""12.mp4""]",0,"[1,",[],"{}"')          # line 12: bad JSON
        f.write('\n"1_y","[""12.mp4""]",0,"[1,2]","[]","{}"')        # line 13: no label
        f.write('\n"1_z","[""12.mp4""]",0,"[1,2,3]","[]","{""1"":""0""}"')  # line 14: 3 values
    result = read_annotations(path, videos)
    assert spans(result) == [("12.mp4", 0.0, 8.0, "doggy")]
    assert [(p.kind, p.source.rsplit(":", 1)[1]) for p in result.problems] == [
        ("malformed", "12"), ("malformed", "13"), ("malformed", "14")]
    assert "temporal_coordinates is not valid JSON" in result.problems[0].detail
    assert "no label" in result.problems[1].detail
    assert "3 values" in result.problems[2].detail


def test_zero_length_segments_are_empty(tmp_path, videos):
    result = read_annotations(plain(tmp_path, "12,5,5,doggy", "12,6,9,doggy"), videos)
    assert spans(result) == [("12.mp4", 6.0, 9.0, "doggy")]
    assert result.problems[0].kind == "empty"
    assert result.problems[0].detail == "zero length at 5.000 s; dropped"


def test_unknown_labels_are_reported_with_a_suggestion(tmp_path, videos):
    path = plain(tmp_path, "12,0,10,doggie", "12,10,20,dancing", "12,20,30,doggy")
    result = read_annotations(path, videos, labels=LABELS)
    assert spans(result) == [("12.mp4", 20.0, 30.0, "doggy")]
    assert result.problems == [
        Problem("unknown-label", f"{path}:2",
                "'doggie' is not in the label map (did you mean 'doggy'?); dropped"),
        Problem("unknown-label", f"{path}:3", "'dancing' is not in the label map; dropped")]


def test_a_missing_video_is_reported_once_with_its_segment_count(tmp_path, videos):
    path = plain(tmp_path, "99,0,10,doggy", "99,10,20,anal", "12,0,10,doggy")
    result = read_annotations(path, videos)
    assert spans(result) == [("12.mp4", 0.0, 10.0, "doggy")]
    assert result.problems == [Problem(
        "missing-video", f"{path}:2",
        f"'99': no video file by that name under {videos} (2 segments dropped)")]


def test_two_files_that_fit_one_name_are_not_guessed(tmp_path, videos):
    (videos / "12.mkv").write_bytes(b"")
    result = read_annotations(plain(tmp_path, "12,0,10,doggy", "12.mp4,0,10,doggy"), videos)
    # '12.mp4' is exact; '12' fits both files
    assert spans(result) == [("12.mp4", 0.0, 10.0, "doggy")]
    assert kinds(result) == ["missing-video"]
    assert "2 files fit (12.mkv, 12.mp4)" in result.problems[0].detail


def test_out_of_range_segments_are_clipped_when_slightly_over_else_dropped(tmp_path, videos):
    path = plain(tmp_path,
                 "12,50,60.3,doggy",      # 0.3 s over: clipped to 60
                 "12,-0.2,5,anal",        # 0.2 s before: clipped to 0
                 "13,20,31,doggy",        # 1 s over: dropped
                 "13,-2,5,anal",          # 2 s before: dropped
                 "14,45,50,doggy",        # starts after the end: dropped
                 "14,0,10,doggy")
    result = read_annotations(path, videos, duration_of=durations(**{
        "12_mp4": 60.0, "13_mkv": 30.0, "14_mp4": 40.0}))
    assert spans(result) == [("12.mp4", 0.0, 5.0, "anal"), ("12.mp4", 50.0, 60.0, "doggy"),
                             ("14.mp4", 0.0, 10.0, "doggy")]
    assert [(p.kind, p.source.rsplit(":", 1)[1]) for p in result.problems] == [
        ("out-of-range", str(n)) for n in (2, 3, 4, 5, 6)]
    details = [p.detail for p in result.problems]
    assert details[0] == ("50.000–60.300 s runs past the video (0–60.000 s) by less than "
                          "0.5 s; clipped to 50.000–60.000 s")
    assert "clipped to 0.000–5.000 s" in details[1]
    assert details[2] == "20.000–31.000 s ends 1.000 s after the video (30.000 s); dropped"
    assert details[3] == "-2.000–5.000 s starts 2.000 s before the video; dropped"
    assert details[4] == "45.000–50.000 s starts after the video ends (40.000 s); dropped"


def test_a_video_whose_duration_cannot_be_read(tmp_path, videos):
    def probe(path):
        if path.name == "13.mkv":
            raise VideoOpenError(f"{path}: not a video")
        return 100.0

    result = read_annotations(plain(tmp_path, "13,0,10,doggy", "13,10,20,anal", "12,0,10,doggy"),
                              videos, duration_of=probe)
    assert spans(result) == [("12.mp4", 0.0, 10.0, "doggy")]
    assert kinds(result) == ["unreadable-video"]
    assert "13.mkv: not a video; its segments are dropped" in result.problems[0].detail
    assert list(result.videos) == ["12.mp4"]


def test_overlapping_segments_of_one_label_are_merged(tmp_path, videos):
    path = plain(tmp_path, "12,10,20,doggy", "12,15,30,doggy", "12,30,35,doggy")
    result = read_annotations(path, videos)
    assert spans(result) == [("12.mp4", 10.0, 35.0, "doggy")]
    # the real overlap is reported; merely touching (30) is not
    assert result.problems == [Problem(
        "overlapping", f"{path}:3",
        f"'doggy' 15.000–30.000 s overlaps 'doggy' 10.000–20.000 s ({path}:2); "
        f"merged into 10.000–30.000 s")]


def test_overlapping_segments_of_different_labels_lose_the_shared_time(tmp_path, videos):
    path = plain(tmp_path, "12,0,20,doggy", "12,18,30,anal")
    result = read_annotations(path, videos)
    assert spans(result) == [("12.mp4", 0.0, 18.0, "doggy"), ("12.mp4", 20.0, 30.0, "anal")]
    assert result.problems == [Problem(
        "overlapping", f"{path}:3",
        f"'anal' 18.000–30.000 s and 'doggy' 0.000–20.000 s ({path}:2) share 2.000 s "
        f"(18.000–20.000 s); the shared time is dropped from both")]


def test_a_segment_inside_another_label_disappears_and_splits_it(tmp_path, videos):
    result = read_annotations(plain(tmp_path, "12,0,60,doggy", "12,30,35,facial-cumshot"), videos)
    assert spans(result) == [("12.mp4", 0.0, 30.0, "doggy"), ("12.mp4", 35.0, 60.0, "doggy")]
    assert kinds(result) == ["overlapping"]
    assert "'facial-cumshot' 30.000–35.000 s is dropped entirely" in result.problems[0].detail


def test_overlap_keep_policy_keeps_both(tmp_path, videos):
    result = read_annotations(plain(tmp_path, "12,0,20,doggy", "12,18,30,anal"), videos,
                              overlap="keep")
    assert spans(result) == [("12.mp4", 0.0, 20.0, "doggy"), ("12.mp4", 18.0, 30.0, "anal")]
    assert kinds(result) == ["overlapping"]
    assert result.problems[0].detail.endswith("both kept")


def test_overlaps_are_per_video(tmp_path, videos):
    result = read_annotations(plain(tmp_path, "12,0,20,doggy", "13,0,20,anal"), videos)
    assert len(result) == 2 and result.problems == []


def test_every_problem_kind_in_one_file_and_nothing_raises(tmp_path, videos):
    path = plain(tmp_path,
                 "12,0,30,doggy", "12,25,40,anal",     # overlapping
                 "12,x,9,doggy",                       # malformed
                 "12,50,50,doggy",                     # empty
                 "12,60,70,swimming",                  # unknown-label
                 "nope,0,10,doggy",                    # missing-video
                 "13,0,10,doggy",                      # unreadable-video
                 "14,0,99,doggy")                      # out-of-range
    def probe(path):
        if path.name == "13.mkv":
            raise VideoOpenError("broken")
        return 60.0
    result = read_annotations(path, videos, labels=LABELS, duration_of=probe)
    assert sorted(set(kinds(result))) == sorted(PROBLEM_KINDS)
    assert spans(result) == [("12.mp4", 0.0, 25.0, "doggy"), ("12.mp4", 30.0, 40.0, "anal")]
    assert all(isinstance(a, Annotation) and isinstance(a.span, Span) for a in result)
    assert set(result.problems_by_kind()) == set(PROBLEM_KINDS)
    assert str(result.problems[0]).startswith(f"{path}:")
