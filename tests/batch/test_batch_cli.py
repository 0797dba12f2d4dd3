"""`phar batch` refuses bad input with one line and the documented exit code, before starting
any worker."""
from __future__ import annotations

import sys

import pytest

from tests.conftest import run_phar


def one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def folder(tmp_path, video_stock):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.mp4").write_bytes(video_stock["a.mp4"].read_bytes())
    return lib


@pytest.mark.parametrize("argv,code,words", [
    (["batch", "{lib}"], 2, "-o OUTDIR"),
    (["batch", "-o", "{tmp}/out"], 2, "needs INPUT"),
    (["batch", "{tmp}/nope", "-o", "{tmp}/out"], 2, "no such folder or manifest"),
    (["batch", "{lib}/a.mp4", "-o", "{tmp}/out"], 2, "phar timestamps"),
    (["batch", "{tmp}/empty", "-o", "{tmp}/out"], 1, "no videos found"),
    (["batch", "{lib}", "-o", "{tmp}/out", "-f", "docx"], 2, "unknown output format"),
    (["batch", "{lib}", "-o", "{tmp}/out", "--executor", "slurm"], 2, "choose local or ray"),
    (["batch", "{lib}", "-o", "{tmp}/out", "--ray-gpus", "1"], 2, "need --executor ray"),
    (["batch", "{lib}", "-o", "{tmp}/out", "--executor", "ray", "--ray-gpus", "rgb=x"], 2, "--ray-gpus"),
    (["batch", "--report", "-o", "{tmp}"], 1, "no batch catalog"),
])
def test_usage_errors_are_one_line(argv, code, words, folder, tmp_path, rgb_args, capsys):
    (tmp_path / "empty").mkdir()
    argv = [a.format(lib=folder, tmp=tmp_path) for a in argv]
    got, _, err = run_phar(["-q", *argv, *(rgb_args if "--report" not in argv else [])], capsys)
    assert got == code and words in one_line(err)
    assert not (tmp_path / "out").exists()


def test_missing_model_files_stop_the_batch_before_any_video(folder, tmp_path, isolated_home, capsys):
    code, _, err = run_phar(["-q", "batch", folder, "-o", tmp_path / "out", "--streams", "rgb"], capsys)
    assert code == 1 and "phar models fetch" in one_line(err)


def test_ray_executor_without_ray_says_how_to_install_it(folder, tmp_path, rgb_args, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees where Ray is not installed
    code, _, err = run_phar(["-q", "batch", folder, "-o", tmp_path / "out", "--executor", "ray",
                             *rgb_args], capsys)
    assert code == 2 and "pip install 'phar[ray]'" in one_line(err)
    assert not (tmp_path / "out").exists()
