"""Which videos a batch takes: a folder walked recursively, or a manifest (lines or CSV)."""
from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from phar_cli.batch.inputs import ManifestError, find_inputs
from phar_cli.errors import UsageError


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_folder_walk_is_recursive_takes_video_extensions_and_skips_hidden_and_outdir(tmp_path):
    lib = tmp_path / "lib"
    for rel in ("a.mp4", "sub/B.MKV", "sub/deep/c.mov", "notes.txt", "sub/x.json", ".hidden.mp4",
                ".cache/d.mp4", "out/e.mp4"):
        touch(lib / rel)
    found = find_inputs(lib, exclude=lib / "out")
    assert [str(i.relpath) for i in found] == ["a", "sub/B", "sub/deep/c"]
    assert all(i.path.is_absolute() and i.path.exists() for i in found)


def test_two_videos_with_one_name_keep_their_extensions_in_output_names(tmp_path):
    touch(tmp_path / "clip.mp4")
    touch(tmp_path / "clip.mkv")
    touch(tmp_path / "other.mp4")
    assert [str(i.relpath) for i in find_inputs(tmp_path)] == ["clip.mkv", "clip.mp4", "other"]


def test_manifest_lines_resolve_against_the_manifest_folder(tmp_path):
    lib = tmp_path / "lib"
    a, b = touch(lib / "a.mp4"), touch(lib / "sub" / "b.mp4")
    outside = touch(tmp_path / "elsewhere" / "c.mp4")
    manifest = lib / "list.txt"
    manifest.write_text(f"# my videos\na.mp4\n\n  sub/b.mp4  \n{outside}\na.mp4\nmissing.mp4\n")
    found = {str(i.relpath): i.path for i in find_inputs(manifest)}
    assert found["a"] == a.resolve() and found["sub/b"] == b.resolve()
    # outside the manifest's folder: mirrored by its absolute path, stable from run to run
    assert found[str(PurePosixPath(*outside.with_suffix("").parts[1:]))] == outside.resolve()
    assert found["missing"] == lib / "missing.mp4"  # kept: reported as failed by the batch
    assert len(found) == 4  # a.mp4 listed twice, taken once


def test_csv_manifest_uses_its_path_column(tmp_path):
    touch(tmp_path / "v" / "a.mp4")
    touch(tmp_path / "v" / "b, with comma.mp4")
    manifest = tmp_path / "videos.csv"
    manifest.write_text('id,path,rating\n1,v/a.mp4,5\n2,"v/b, with comma.mp4",3\n')
    assert [str(i.relpath) for i in find_inputs(manifest)] == ["v/a", "v/b, with comma"]


def test_bad_inputs_are_one_clear_error(tmp_path):
    with pytest.raises(UsageError, match="no such folder or manifest"):
        find_inputs(tmp_path / "nope")
    with pytest.raises(UsageError, match="is a video"):
        find_inputs(touch(tmp_path / "one.mp4"))
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(ManifestError, match="names no videos"):
        find_inputs(empty)
    no_column = tmp_path / "bad.csv"
    no_column.write_text("id,title\n1,x\n")
    with pytest.raises(ManifestError, match="'path' column"):
        find_inputs(no_column)
