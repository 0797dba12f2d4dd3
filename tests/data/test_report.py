"""The class-distribution report: counts per stream, the Rich table and the PNG chart."""
from __future__ import annotations

import os
import struct

import pytest
from rich.console import Console

from phar_cli.spans import Span
from phar_cli.data.clips import Clip
from phar_cli._cli.train import distribution_table
from phar_cli.data.report import ClassCount, class_distribution, distribution_chart
from phar_cli.errors import PharError


def clips(video: str, label: str, n: int, length: float = 7.0) -> list[Clip]:
    return [Clip(video, Span(i * length, (i + 1) * length), label, i) for i in range(n)]


@pytest.fixture
def stats():
    rgb_train = clips("a.mp4", "doggy", 6) + clips("b.mp4", "blowjob", 3)
    rgb_val = clips("c.mp4", "doggy", 2) + clips("c.mp4", "anal", 1, length=3.0)
    skeleton_train = clips("a.mp4", "doggy", 4)
    skeleton_val = clips("c.mp4", "doggy", 1)
    return {
        "rgb": class_distribution("rgb", rgb_train, rgb_val, labels=["doggy", "blowjob", "anal"]),
        "skeleton": class_distribution("skeleton", skeleton_train, skeleton_val,
                                       labels=["blowjob", "doggy"]),
    }


def test_counts_clips_and_seconds_per_class_and_split(stats):
    rgb = stats["rgb"]
    assert rgb.labels == ("doggy", "blowjob", "anal")
    assert rgb.count("doggy", "train") == ClassCount(6, 42.0)
    assert rgb.count("doggy", "val") == ClassCount(2, 14.0)
    assert rgb.count("doggy") == ClassCount(8, 56.0)
    assert rgb.count("anal", "train") == ClassCount()
    assert rgb.count("anal", "val") == ClassCount(1, 3.0)
    assert rgb.total("train") == ClassCount(9, 63.0)
    assert rgb.total() == ClassCount(12, 80.0)
    assert rgb.count("doggy").minutes == pytest.approx(56 / 60)
    # a label map class without clips still gets a row
    assert stats["skeleton"].count("blowjob") == ClassCount()


def test_labels_outside_the_map_are_counted_after_it():
    stats = class_distribution("audio", clips("a", "zeta", 1) + clips("a", "beta", 1), [],
                               labels=["doggy"])
    assert stats.labels == ("doggy", "beta", "zeta")


def test_to_dict_is_what_the_manifest_needs(stats):
    assert stats["skeleton"].to_dict() == {
        "classes": {"blowjob": {"train": {"clips": 0, "seconds": 0.0},
                                "val": {"clips": 0, "seconds": 0.0}},
                    "doggy": {"train": {"clips": 4, "seconds": 28.0},
                              "val": {"clips": 1, "seconds": 7.0}}},
        "total": {"train": {"clips": 4, "seconds": 28.0}, "val": {"clips": 1, "seconds": 7.0}}}


def test_table_rows(stats):
    table = distribution_table(stats)
    assert [c.header for c in table.columns] == [
        "Stream", "Class", "Train clips", "Train min", "Val clips", "Val min", "Clips", "Min"]
    rows = list(zip(*(c._cells for c in table.columns)))
    assert rows == [
        ("rgb", "doggy", "6", "0.7", "2", "0.2", "8", "0.9"),
        ("", "blowjob", "3", "0.3", "0", "0.0", "3", "0.3"),
        ("", "anal", "0", "0.0", "1", "0.1", "1", "0.1"),
        ("", "total", "9", "1.1", "3", "0.3", "12", "1.3"),
        ("skeleton", "blowjob", "0", "0.0", "0", "0.0", "0", "0.0"),
        ("", "doggy", "4", "0.5", "1", "0.1", "5", "0.6"),
        ("", "total", "4", "0.5", "1", "0.1", "5", "0.6"),
    ]
    console = Console(width=120, record=True, file=open(os.devnull, "w"))
    console.print(table)
    text = console.export_text()
    assert "Class distribution" in text and "skeleton" in text


def test_table_accepts_a_list_of_streams(stats):
    assert distribution_table(list(stats.values())).row_count == 7


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_chart_is_a_png_written_atomically(stats, tmp_path):
    path = tmp_path / "distribution.png"
    path.write_bytes(b"old")
    distribution_chart(stats, path)
    width, height = png_size(path)
    assert width >= 800 and height == 800
    assert os.listdir(tmp_path) == ["distribution.png"]  # no temp file left behind


def test_chart_opens_as_an_image(stats, tmp_path):
    from matplotlib.image import imread

    path = tmp_path / "chart.png"
    distribution_chart(stats, path)
    pixels = imread(path)
    assert pixels.shape[:2] == (800, png_size(path)[0])
    assert pixels.std() > 0  # something is drawn


def test_chart_of_nothing_still_draws(tmp_path):
    path = tmp_path / "empty.png"
    distribution_chart({"rgb": class_distribution("rgb", [], [])}, path)
    assert png_size(path)[1] == 800


def test_chart_into_a_missing_folder_is_a_phar_error(stats, tmp_path):
    with pytest.raises(PharError, match="cannot write"):
        distribution_chart(stats, tmp_path / "no" / "chart.png")
