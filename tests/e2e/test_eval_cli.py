"""`phar eval` from the command line: its numbers on a hand-made case, a folder of predictions,
and bad truth given one clear line."""
from __future__ import annotations

import orjson
import pytest

from phar_cli.core.predictions import Analysis, VideoMeta, WindowPrediction
from phar_cli.core.segments import segments_of
from phar_cli.synthetic.dataset import Segment, write_plain_csv
from phar_cli.outputs import get_writer
from phar_cli.spans import Span
from tests.conftest import run_phar
from tests.e2e.test_bad_input import _one_error_line

LABELS = ["alpha", "beta", "background"]


def predictions(path, video, *parts):
    windows = [WindowPrediction(Span(s, e), [(label, 0.8)] + [(x, 0.1) for x in LABELS if x != label])
               for s, e, label in parts]
    analysis = Analysis(VideoMeta(video, parts[-1][1], 25.0, 160, 120), LABELS, windows,
                        {"background": "background", "subclip_len": 7.0})
    get_writer("json").write(analysis, segments_of(analysis), path)
    return path


@pytest.fixture
def case(tmp_path):
    truth = write_plain_csv(tmp_path / "truth.csv", [Segment("a.mp4", 2, 10, "alpha"),
                                                    Segment("a.mp4", 10, 14, "beta")])
    folder = tmp_path / "preds"
    folder.mkdir()
    # alpha 0-7 (truth 2-10), background 7-14 where beta was: 5 of 12 annotated seconds right
    predictions(folder / "a.json", "/somewhere/a.mp4", (0, 7, "alpha"), (7, 14, "background"))
    (folder / "a.tags.json").write_text("{}")  # phar batch's sidecar: not a predictions file
    return truth, folder


def test_numbers_of_a_hand_made_case(case, capsys):
    truth, folder = case
    code, out, err = run_phar(["eval", folder / "a.json", truth, "--json"], capsys)
    assert code == 0, err
    overall = orjson.loads(out)["overall"]
    assert overall["annotated_seconds"] == 12 and overall["right_seconds"] == 5
    assert overall["labelled_right"] == pytest.approx(5 / 12)
    # predicted boundary 7 (alpha ends): nearest true boundaries are 2 and 10 -> 3 s
    assert overall["boundary_errors"]["max"] == pytest.approx(3.0)
    # alpha 0-7 vs 2-10: IoU 5/10 = 0.5 counts; beta missed: P 1/1, R 1/2
    assert overall["segments"]["precision"] == 1.0 and overall["segments"]["recall"] == 0.5
    assert overall["classes"]["alpha"]["precision"] == pytest.approx(5 / 7)


def test_a_folder_of_predictions_and_the_table(case, capsys):
    truth, folder = case
    code, out, err = run_phar(["eval", folder, truth], capsys)
    assert code == 0, err
    assert "a.mp4" in out and "0.42" in out  # 5 / 12 labelled right


@pytest.mark.parametrize("content,problem", [
    (None, "not found"),
    ("this is not an annotation file\n", "neither"),
    ("video,start,end,label\nzzz.mp4,1,2,alpha\n", "no predictions file matches"),
    ("video,start,end,label\na.mp4,1,90,alpha\n", "past"),
])
def test_bad_truth_is_one_clear_line(case, tmp_path, capsys, content, problem):
    _, folder = case
    truth = tmp_path / "bad.csv"
    if content is not None:
        truth.write_text(content)
    code, _, err = run_phar(["eval", folder / "a.json", truth], capsys)
    line = _one_error_line(err)
    assert code != 0 and problem in line, line
