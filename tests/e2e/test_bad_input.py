"""Bad input: one clear line naming the file and the problem, the right exit code, no traceback,
nothing written at the output path."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import run_phar


def _one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def bad_files(tmp_path, videos):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 20)
    whole = videos["loud9"].read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole[: len(whole) // 3])
    return {"missing": tmp_path / "missing.mp4", "empty": empty, "text": text,
            "truncated": truncated, "short": videos["short"]}


@pytest.mark.parametrize("case,problem", [
    ("missing", "not found"), ("empty", "empty"), ("text", "not a video"),
    ("truncated", ""), ("short", "shorter than"),
])
def test_bad_video_is_one_line_exit_1_and_nothing_written(case, problem, bad_files, small_bundle,
                                                          tmp_path, capsys):
    out = tmp_path / "out.json"
    code, _, err = run_phar(["-q", "timestamps", bad_files[case], "-o", out,
                             *small_bundle.args()], capsys)
    line = _one_error_line(err)
    assert code == 1
    assert str(bad_files[case]) in line and problem in line
    assert not out.exists()
    assert not list(tmp_path.glob(".out.json*"))  # no temporary left either


def test_wrong_label_map_for_a_checkpoint(small_bundle, videos, tmp_path, capsys):
    out = tmp_path / "out.json"
    audio_map = small_bundle.folder.parent  # any folder; the map itself comes from configs
    del audio_map
    code, _, err = run_phar(["-q", "timestamps", videos["loud9"], "-o", out, "--streams", "rgb",
                             "--label-maps", "rgb=configs/labels/annotations_audio.txt",
                             *small_bundle.args()], capsys)
    line = _one_error_line(err)
    assert code == 1
    assert "rgb_gated.pth" in line and "17" in line and "4" in line
    assert not out.exists()


def test_missing_models_say_where_and_how_to_fetch(isolated_home, videos, tmp_path, capsys):
    out = tmp_path / "out.json"
    code, _, err = run_phar(["-q", "timestamps", videos["loud9"], "-o", out, "--device", "cpu"],
                            capsys)
    line = _one_error_line(err)
    assert code == 1
    assert "timeSformer.pth" in line and str(isolated_home / "models") in line
    assert "phar models fetch" in line
    assert not out.exists()


def test_unavailable_cuda_is_a_usage_error(small_bundle, videos, tmp_path, capsys):
    args = small_bundle.args()
    args[args.index("--device") + 1] = "cuda:0"
    code, _, err = run_phar(["-q", "timestamps", videos["loud9"], "-o", tmp_path / "o.json", *args],
                            capsys)
    assert code == 2 and "CUDA is not available" in _one_error_line(err)


def test_output_never_overwrites_the_input(small_bundle, videos, capsys):
    code, _, err = run_phar(["-q", "timestamps", videos["loud9"], "-o", videos["loud9"],
                             *small_bundle.args()], capsys)
    assert code == 2 and "overwrite the input" in _one_error_line(err)


def test_unknown_stream_and_bad_weights_are_usage_errors(small_bundle, videos, tmp_path, capsys):
    for extra in (["--streams", "rgb,smell"], ["--coefficients", "rgb=x"]):
        code, _, err = run_phar(["-q", "timestamps", videos["loud9"], "-o", tmp_path / "o.json",
                                 *small_bundle.args(), *extra], capsys)
        assert code == 2, err
        _one_error_line(err)


def test_a_real_process_prints_one_line_and_no_traceback(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    proc = subprocess.run([sys.executable, "-m", "phar_cli.cli", "tags", str(empty)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert _one_error_line(proc.stderr)
