"""StashApi.scene_histories: every scene's plays, O's and rating, read page by page with queries
only, times as aware UTC datetimes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from phar_cli.stash import api as stash_api
from phar_cli.stash.api import SceneFile, StashApi
from phar_cli.stash.client import StashClient, StashServerError
from tests.stash import fake_stash
from tests.stash.conftest import KEY
from tests.stash.fake_stash import EPOCH


def histories(stash):
    with StashApi(StashClient(stash.url, KEY, backoff=0.01)) as api:
        return api.scene_histories()


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def test_played_and_unplayed_scenes_come_back_with_their_history(stash):
    played = stash.add_scene("/v/a.mp4", title="A", size=5, duration=12.5, rating100=80,
                             play_history=[EPOCH + 10, EPOCH + 300, EPOCH + 20],
                             o_history=[EPOCH + 30])
    never = stash.add_scene("/v/b.mp4")
    a, b = histories(stash)
    assert a.id == played and a.title == "A"
    assert a.files == (SceneFile("/v/a.mp4", 5, 12.5),)
    assert (a.play_count, a.o_counter, a.rating100) == (3, 1, 80)
    assert a.play_history == (utc(EPOCH + 300), utc(EPOCH + 20), utc(EPOCH + 10))  # newest first
    assert a.last_played_at == utc(EPOCH + 300)
    assert a.o_history == (utc(EPOCH + 30),)
    assert b.id == never and b.title is None
    assert (b.play_count, b.o_counter, b.rating100) == (0, 0, None)
    assert b.last_played_at is None and b.play_history == () and b.o_history == ()


def test_times_with_an_offset_and_nanoseconds_are_read_as_utc(stash):
    stash.add_scene("/v/a.mp4", play_history=["2026-01-01T02:00:00.123456789+02:00"],
                    o_history=["2025-12-31T23:59:59Z"])
    (a,) = histories(stash)
    want = datetime(2026, 1, 1, 0, 0, 0, 123456, timezone.utc)
    assert a.play_history == (want,) and a.last_played_at == want
    assert a.last_played_at.utcoffset() == timedelta(0)
    assert a.o_history == (datetime(2025, 12, 31, 23, 59, 59, tzinfo=timezone.utc),)


def test_every_scene_comes_back_once_across_pages_with_queries_only(stash, monkeypatch):
    monkeypatch.setattr(stash_api, "HISTORY_PAGE", 2)
    ids = [stash.add_scene(f"/v/{i}.mp4", play_history=[EPOCH + i]) for i in range(5)]
    got = histories(stash)
    assert [h.id for h in got] == ids
    assert [h.last_played_at for h in got] == [utc(EPOCH + i) for i in range(5)]
    filters = [r["variables"]["filter"] for r in stash.requests]
    assert [(f["page"], f["per_page"]) for f in filters] == [(1, 2), (2, 2), (3, 2)]
    assert all(f["sort"] == "id" and f["direction"] == "ASC" for f in filters)
    assert all(r["query"].lstrip().startswith("query ") for r in stash.requests)
    assert stash.mutations == 0


def test_a_full_last_page_costs_one_empty_page(stash, monkeypatch):
    monkeypatch.setattr(stash_api, "HISTORY_PAGE", 2)
    for i in range(4):
        stash.add_scene(f"/v/{i}.mp4")
    assert len(histories(stash)) == 4
    assert len(stash.requests) == 3


def test_no_scenes_is_an_empty_list(stash):
    assert histories(stash) == []


def test_the_query_is_valid_against_stashs_schema(stash):
    stash.add_scene("/v/a.mp4", play_history=[EPOCH])
    histories(stash)
    (request,) = stash.requests   # the fake answers 422 to a query its schema rejects
    assert "play_history" in request["query"] and "o_history" in request["query"]


def test_an_unreadable_time_is_one_clear_error(stash):
    sid = stash.add_scene("/v/a.mp4", play_history=[EPOCH])
    stash.scenes[int(sid)].play_history = ["yesterday"]   # a server answering a non-RFC 3339 Time
    with pytest.raises(StashServerError) as info:
        histories(stash)
    message = str(info.value)
    assert "'yesterday'" in message and f"scene {sid}" in message and "\n" not in message


def test_the_fake_sorts_scenes_only_as_stash_does(stash):
    # Stash refuses sort keys outside its allow-list; the fake says which ones it cannot do
    with StashApi(StashClient(stash.url, KEY, backoff=0.01)) as api:
        for sort, why in (("nonsense", "invalid sort"), ("title", "does not sort")):
            with pytest.raises(Exception, match=why):
                api.client.query("query ($f: FindFilterType) { findScenes(filter: $f) "
                                 "{ count } }", {"f": {"sort": sort}})


def test_a_server_that_ignores_page_is_an_error_not_a_loop(stash, monkeypatch):
    monkeypatch.setattr(stash_api, "HISTORY_PAGE", 2)
    monkeypatch.setattr(fake_stash, "_page", lambda rows, filt: rows[:filt["per_page"]])
    for i in range(5):
        stash.add_scene(f"/v/{i}.mp4")
    with pytest.raises(StashServerError, match="ignores `page`"):
        histories(stash)
    assert len(stash.requests) == 2
