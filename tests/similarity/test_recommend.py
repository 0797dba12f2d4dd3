"""`phar recommend` against the test Stash server (its watch history: plays, O's, ratings) and
from a list of liked files."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from phar_cli.similarity.recommend import HALF_LIFE_DAYS, engagement
from tests.conftest import run_phar
from tests.similarity.conftest import LIBRARY as SHARED
from tests.similarity.conftest import Video, make_library
from tests.stash.conftest import KEY, stash  # noqa: F401 - the fixture

# the tests' library with a gamma-and-delta video instead of the one where nothing happens
LIBRARY = [v for v in SHARED if v.name != "quiet"] + [Video("g3", {"gamma": 40, "delta": 10},
                                                            (0.1, 0, 1))]
DAY = 86400.0


def days_ago(days: float) -> int:
    return int(time.time() - days * DAY)


def scenes(stash, root, history: dict[str, dict]) -> dict[str, str]:  # noqa: F811
    """Every library video as a Stash scene (history as given), and one phar never analysed."""
    ids = {v.name: stash.add_scene(str(root / "videos" / f"{v.name}.mp4"), title=v.name.upper(),
                                   **history.get(v.name, {})) for v in LIBRARY}
    ids["new"] = stash.add_scene(str(root / "videos" / "new.mp4"), title="NEW",
                                 play_history=[days_ago(1)])
    return ids


def recommend(capsys, outdir, *argv):
    return run_phar(["recommend", "--library", outdir, *map(str, argv)], capsys)


def test_the_scenes_most_like_the_played_ones_come_first_and_no_played_one(stash, tmp_path,  # noqa: F811
                                                                          capsys):
    outdir = make_library(tmp_path, LIBRARY)
    ids = scenes(stash, tmp_path, {"a1": {"play_history": [days_ago(2), days_ago(3)],
                                          "o_history": [days_ago(2)]},
                                   "g3": {"rating100": 20}})
    code, out, err = recommend(capsys, outdir, "--stash", stash.url, "--json")
    assert code == 0, err
    result = orjson.loads(out)
    names = [r["relpath"] for r in result["recommendations"]]
    # played (a1), its copy and the rated g3 are never recommended; a2 is most like a1
    assert names[0] == "a2" and not {"a1", "a1-copy", "g3"} & set(names)
    assert set(names) == {"a2", "a3", "g1", "g2"}
    first = result["recommendations"][0]
    assert first["scene_id"] == ids["a2"] and first["link"].endswith(f"/scenes/{ids['a2']}")
    assert first["why"].startswith("like A1 (played 2x, O 1)")
    assert result["unanalysed"] == ["NEW"]
    assert all(r["query"].startswith("query") for r in stash.requests)  # it only reads
    assert KEY not in out + err


def test_recent_and_rated_scenes_weigh_more(stash, tmp_path, capsys):  # noqa: F811
    outdir = make_library(tmp_path, LIBRARY)
    # g1: played once long ago; a3: played once last week and rated 100
    scenes(stash, tmp_path, {"g1": {"play_history": [days_ago(400)]},
                             "a3": {"play_history": [days_ago(7)], "rating100": 100}})
    code, out, err = recommend(capsys, outdir, "--stash", stash.url, "--json", "--by", "profile")
    assert code == 0, err
    names = [r["relpath"] for r in orjson.loads(out)["recommendations"]]
    # alpha and beta, like a3, before gamma, like g1; of the copies a1-copy, a1 only the first
    assert names[:2] == ["a2", "a1-copy"] and "a1" not in names
    assert names.index("g3") > names.index("a1-copy")


def test_the_rule_of_engagement():
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert engagement(0, 0, None, None, now) == 0.0
    assert engagement(1, 0, None, now, now) == 1.0
    assert engagement(3, 0, None, now, now) == 2.0          # log2(1 + 3)
    assert engagement(1, 2, None, now, now) == 3.0          # each O as much as the first play
    assert engagement(1, 0, 90, now, now) == 1.5            # rating / 60
    assert engagement(0, 0, 30, None, now) == 0.5           # rated, never played: one play
    half = now - timedelta(days=HALF_LIFE_DAYS)
    assert engagement(1, 0, None, half, now) == pytest.approx(0.5)


def test_the_table_links_each_scene_and_names_what_was_not_analysed(stash, tmp_path,  # noqa: F811
                                                                    capsys):
    outdir = make_library(tmp_path, LIBRARY)
    ids = scenes(stash, tmp_path, {"g1": {"play_history": [days_ago(1)]}})
    code, out, err = recommend(capsys, outdir, "--stash", stash.url, "--top", "2")
    assert code == 0, err
    assert "g3" in out and f"scene {ids['g3']}" in out and stash.url in out
    assert "1 scenes phar has not analysed left out: NEW" in err


def test_a_path_map_finds_the_scenes_under_the_servers_paths(stash, tmp_path, capsys):  # noqa: F811
    outdir = make_library(tmp_path, LIBRARY)
    stash.add_scene("/data/videos/a1.mp4", title="A1", play_history=[days_ago(1)])
    code, out, err = recommend(capsys, outdir, "--stash", stash.url, "--json", "--path-map",
                               f"{tmp_path / 'videos'}=/data/videos")
    assert code == 0, err
    assert orjson.loads(out)["recommendations"][0]["relpath"] == "a2"
    code, _, err = recommend(capsys, outdir, "--stash", stash.url)  # no map: nothing known
    assert code == 2 and "none of the videos the viewer played" in err


def test_a_list_of_liked_files_without_stash(tmp_path, capsys):
    outdir = make_library(tmp_path, LIBRARY)
    liked = tmp_path / "liked.txt"
    liked.write_text("# what I liked\nvideos/g1.mp4\n\nvideos/gone.mp4\n")
    code, out, err = recommend(capsys, outdir, "--liked", liked, "--json")
    assert code == 0, err
    result = orjson.loads(out)
    names = [r["relpath"] for r in result["recommendations"]]
    assert names[0] == "g3" and "g1" not in names
    assert result["unanalysed"] == ["videos/gone.mp4"]


def test_a_server_that_cannot_be_reached_or_refuses_the_key_is_one_line(stash, tmp_path,  # noqa: F811
                                                                        capsys, monkeypatch):
    outdir = make_library(tmp_path, LIBRARY)
    monkeypatch.setenv("PHAR_STASH_API_KEY", "wrong-key-123")
    code, out, err = recommend(capsys, outdir, "--stash", stash.url)
    assert code == 1 and not out and len(err.strip().splitlines()) == 1
    assert "wrong-key-123" not in err
    code, _, err = recommend(capsys, outdir, "--stash", "http://127.0.0.1:9", "--retries", "0",
                             "--timeout", "2")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, _, err = recommend(capsys, outdir)
    assert code == 2 and "--stash URL" in err
