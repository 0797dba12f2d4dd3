import os

import pytest

from phar_cli.errors import PharError
from phar_cli.outputs import get_writer
from phar_cli.atomic import atomic_open, atomic_write_bytes, is_temp_name


def test_writes_the_whole_file(tmp_path):
    path = tmp_path / "a.txt"
    atomic_write_bytes(path, b"one")
    atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_mode_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.txt", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def test_a_failing_write_leaves_no_file_and_no_temp(tmp_path):
    path = tmp_path / "a.txt"
    with pytest.raises(RuntimeError):
        with atomic_open(path) as f:
            f.write(b"half")
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_a_failing_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(path, "not bytes")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_a_writer_that_fails_to_render_leaves_nothing(tmp_path, analysis, segments):
    path = tmp_path / "t.srt"
    with pytest.raises(AttributeError):
        get_writer("srt").write(analysis, [object()], path)
    assert os.listdir(tmp_path) == []


def test_os_errors_become_one_line_phar_errors(tmp_path):
    with pytest.raises(PharError, match="cannot write"):
        atomic_write_bytes(tmp_path / "missing" / "a.txt", b"x")
    (tmp_path / "d").mkdir()
    with pytest.raises(PharError, match="cannot write"):
        atomic_write_bytes(tmp_path / "d", b"x")
    assert sorted(os.listdir(tmp_path)) == ["d"]


def test_is_temp_name_knows_the_writers_temp_files_and_nothing_else(tmp_path):
    with atomic_open(tmp_path / "out.json") as f:
        f.write(b"{}")
        (temp,) = [p.name for p in tmp_path.iterdir()]
    assert is_temp_name(temp)
    assert not any(is_temp_name(n) for n in ("out.json", ".out.json", ".out.json.tmp",
                                             "out.json.0123abcd.tmp"))
