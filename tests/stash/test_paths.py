"""Path maps: a library mounted here at one place and on the Stash server at another."""
from __future__ import annotations

import pytest

from phar_cli.errors import UsageError
from phar_cli.stash.paths import parse_path_maps, to_local, to_remote


def test_longest_local_prefix_wins_and_whole_folders_only():
    maps = parse_path_maps(["/mnt/nas=/data", "/mnt/nas/special=/special/"])
    assert to_remote("/mnt/nas/a/b.mp4", maps) == "/data/a/b.mp4"
    assert to_remote("/mnt/nas/special/c.mp4", maps) == "/special/c.mp4"
    assert to_remote("/mnt/nasty/c.mp4", maps) == "/mnt/nasty/c.mp4"   # not under /mnt/nas
    assert to_local("/special/c.mp4", maps) == "/mnt/nas/special/c.mp4"
    assert to_local("/elsewhere/d.mp4", maps) == "/elsewhere/d.mp4"


def test_a_windows_server_gets_backslashes_and_maps_back():
    maps = parse_path_maps(["/mnt/videos=D:\\Videos"])
    assert to_remote("/mnt/videos/sub/x.mp4", maps) == "D:\\Videos\\sub\\x.mp4"
    assert to_local("D:\\Videos\\sub\\x.mp4", maps) == "/mnt/videos/sub/x.mp4"


def test_relative_local_folders_are_read_against_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    maps = parse_path_maps(["lib=/data/lib"])
    assert to_remote(tmp_path / "lib" / "a.mp4", maps) == "/data/lib/a.mp4"
    assert to_remote("lib/a.mp4", maps) == "/data/lib/a.mp4"


@pytest.mark.parametrize("text", ["/only/local", "=/remote", "/local="])
def test_a_map_without_both_sides_is_a_usage_error(text):
    with pytest.raises(UsageError, match="give LOCAL=REMOTE"):
        parse_path_maps([text])
