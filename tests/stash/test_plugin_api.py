"""What a Stash plugin built on phar needs: the session cookie Stash hands to plugins (never
shown), the plugin's own settings, the scenes with or without a tag (all pages), the tags under
a parent, and destroying a tag it made."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from phar_cli.errors import UsageError
from phar_cli.stash import api as stash_api
from phar_cli.stash.api import StashApi, Tag
from phar_cli.stash.client import StashAuthError, StashClient, StashGraphQLError, StashServerError
from tests.stash import fake_stash
from tests.stash.conftest import KEY
from tests.stash.fake_stash import FakeStash

# what a plugin's input holds in server_connection.SessionCookie.Value (securecookie, base64)
COOKIE = "MTc2NzIyNTYwMHxEdi1CQkFFQ180SUFBUkFCRUFBQU1fLUNBQUVHYzNSeWFXNW5EQWdBQm5WelpYSkpSQT09fA=="
QUERY = "query { findTags { count } }"


@pytest.fixture
def plugin_stash() -> Iterator[FakeStash]:
    """A Stash with credentials that has handed a plugin its session cookie."""
    fake = FakeStash(api_key=KEY, session=COOKIE)
    fake.start()
    yield fake
    fake.stop()


def plugin_api(stash: FakeStash, key: str | None = None) -> StashApi:
    return StashApi(StashClient(stash.url, key, session_cookie=COOKIE, backoff=0.01))


# -- the session cookie ------------------------------------------------------------------------

def test_the_cookie_alone_is_let_in_and_its_renewal_is_sent_next(plugin_stash):
    with plugin_api(plugin_stash) as api:
        assert api.client.query(QUERY) == {"findTags": {"count": 0}}
        assert api.client.query(QUERY) == {"findTags": {"count": 0}}
    # Stash renews the cookie on each use: the second request carries the renewed one
    assert plugin_stash.session_cookies == [COOKIE, f"{COOKIE}-r1"]


def test_a_wrong_key_is_refused_even_with_a_good_cookie(plugin_stash):
    with plugin_api(plugin_stash, key="not-the-key") as api:
        with pytest.raises(StashAuthError) as info:
            api.client.query(QUERY)
    message = str(info.value)
    assert "HTTP 401: it refused the API key" in message and "\n" not in message
    assert COOKIE not in message and "not-the-key" not in message
    assert plugin_stash.session_cookies == []   # Stash never looked at the cookie


def test_a_good_key_beside_the_cookie_is_enough(plugin_stash):
    with plugin_api(plugin_stash, key=KEY) as api:
        assert api.client.query(QUERY) == {"findTags": {"count": 0}}
    assert plugin_stash.session_cookies == []


def test_a_refused_cookie_is_one_line_without_its_value(plugin_stash):
    other = COOKIE.replace("MTc2", "OTk5")
    client = StashClient(plugin_stash.url, session_cookie=other, backoff=0.01)
    with pytest.raises(StashAuthError) as info:
        client.query(QUERY)
    message = str(info.value)
    assert "HTTP 401: it refused the session cookie" in message and "\n" not in message
    assert other not in message and other not in repr(client)
    with pytest.raises(StashAuthError, match="no API key was given"):
        StashClient(plugin_stash.url, backoff=0.01).query(QUERY)


def test_the_cookie_and_its_renewals_never_appear_in_messages_or_reprs(plugin_stash):
    with plugin_api(plugin_stash) as api:
        api.client.query(QUERY)   # the cookie is renewed: both are secrets now
        plugin_stash.break_field("findTags", f"bad session {COOKIE} / {COOKIE}-r1 / {KEY}")
        with pytest.raises(StashGraphQLError) as info:
            api.client.query(QUERY)
        shown = (str(info.value), repr(api.client), repr(api))
    assert "bad session *** / *** /" in shown[0]
    assert not any(COOKIE in text for text in shown)


def test_a_value_no_cookie_can_have_is_refused_without_showing_it():
    for bad in ("abc; admin=1", "abc\r\nX-Evil: 1", "a b"):
        with pytest.raises(UsageError) as info:
            StashClient("http://127.0.0.1:9", session_cookie=bad)
        assert "session_cookie" in str(info.value) and bad not in str(info.value)


# -- the plugin's settings ---------------------------------------------------------------------

def test_plugin_settings_are_the_saved_map_or_empty(plugin_stash):
    plugin_stash.plugin_settings = {"phar": {"threshold": 0.6, "dryRun": True, "tag": "phar"},
                                    "blank": {}}
    with plugin_api(plugin_stash) as api:
        assert api.plugin_settings("phar") == {"threshold": 0.6, "dryRun": True, "tag": "phar"}
        assert api.plugin_settings("blank") == {}
        assert api.plugin_settings("never-saved") == {}
        # as Stash's resolver: an id with nothing saved is left out of the map
        raw = api.client.query('query { configuration { plugins(include: ["phar", "blank", '
                               '"never-saved"]) } }')
        assert list(raw["configuration"]["plugins"]) == ["phar"]


# -- scenes by tag -----------------------------------------------------------------------------

def test_scenes_tagged_and_not_tagged_come_back_from_every_page(plugin_stash, monkeypatch):
    monkeypatch.setattr(stash_api, "HISTORY_PAGE", 2)
    done = plugin_stash.add_tag("phar: done")
    other = plugin_stash.add_tag("other")
    scenes = [plugin_stash.add_scene(f"/v/{i}.mp4", title=f"S{i}") for i in range(6)]
    for sid in scenes[1:4] + scenes[5:]:
        plugin_stash.tag_scene(sid, done)
    plugin_stash.tag_scene(scenes[0], other)
    marker = plugin_stash.add_marker(scenes[1], 3.0, other, end_seconds=9.0)
    with plugin_api(plugin_stash) as api:
        tagged = api.scenes_tagged(done)
        untagged = api.scenes_tagged(done, exclude=True)
    assert [s.id for s in tagged] == [scenes[1], scenes[2], scenes[3], scenes[5]]
    assert [s.id for s in untagged] == [scenes[0], scenes[4]]   # a scene with no tags too
    first = tagged[0]
    assert first.title == "S1" and first.files[0].path == "/v/1.mp4"
    assert first.tags == (Tag(done, "phar: done"),)
    assert [(m.id, m.seconds, m.end_seconds) for m in first.markers] == [(marker, 3.0, 9.0)]
    pages = [(r["variables"]["modifier"], r["variables"]["filter"]["page"])
             for r in plugin_stash.requests if "PharScenesTagged" in r["query"]]
    # 4 tagged: two full pages and an empty one; 2 untagged: a full page and an empty one
    assert pages == [("INCLUDES", 1), ("INCLUDES", 2), ("INCLUDES", 3),
                     ("EXCLUDES", 1), ("EXCLUDES", 2)]
    assert all(r["variables"]["filter"]["sort"] == "id" for r in plugin_stash.requests
               if "PharScenesTagged" in r["query"])


def test_scenes_tagged_stops_at_a_server_that_ignores_page(plugin_stash, monkeypatch):
    monkeypatch.setattr(stash_api, "HISTORY_PAGE", 2)
    monkeypatch.setattr(fake_stash, "_page", lambda rows, filt: rows[:filt["per_page"]])
    done = plugin_stash.add_tag("phar: done")
    for i in range(5):
        plugin_stash.tag_scene(plugin_stash.add_scene(f"/v/{i}.mp4"), done)
    with plugin_api(plugin_stash) as api, pytest.raises(StashServerError, match="ignores `page`"):
        api.scenes_tagged(done)


# -- tags under a parent, and destroying one ---------------------------------------------------

def test_tags_under_are_the_direct_children_with_descriptions(plugin_stash):
    parent = plugin_stash.add_tag("phar")
    a = plugin_stash.add_child_tag("phar: kissing", parent, "Made by phar")
    b = plugin_stash.add_child_tag("phar: doggy", parent)
    plugin_stash.add_child_tag("phar: doggy: deep", b)   # a grandchild: not under `parent`
    plugin_stash.add_tag("kissing")
    with plugin_api(plugin_stash) as api:
        under = api.tags_under(parent)
        assert api.tags_under(a) == []
    assert [(t.id, t.name, t.description) for t in under] == [
        (a, "phar: kissing", "Made by phar"), (b, "phar: doggy", None)]
    assert under[0] == Tag(a, "phar: kissing")   # the description is not part of its identity


def test_destroy_tag_takes_it_off_scenes_markers_and_children(plugin_stash):
    parent = plugin_stash.add_tag("phar")
    made = plugin_stash.add_child_tag("phar: done", parent)
    child = plugin_stash.add_child_tag("phar: done: old", made)
    keep = plugin_stash.add_tag("person's tag")
    scene = plugin_stash.add_scene("/v/a.mp4")
    plugin_stash.tag_scene(scene, made)
    plugin_stash.tag_scene(scene, keep)
    marker = plugin_stash.add_marker(scene, 1.0, keep, tag_ids=(made,))
    with plugin_api(plugin_stash) as api:
        api.destroy_tag(made)
        assert api.scenes_tagged(made) == []
        assert [t.name for t in api.scene_by_path("/v/a.mp4").tags] == ["person's tag"]
        assert api.tags_under(parent) == []
    assert plugin_stash.markers[int(marker)].tag_ids == []
    assert plugin_stash.tags[int(child)].parent_ids == []


def test_destroy_tag_is_refused_while_a_marker_has_it_as_primary_tag(plugin_stash):
    made = plugin_stash.add_tag("phar: kissing")
    scene = plugin_stash.add_scene("/v/a.mp4")
    plugin_stash.add_marker(scene, 1.0, made)
    with plugin_api(plugin_stash) as api:
        with pytest.raises(StashGraphQLError, match="used as a primary tag in scene markers"):
            api.destroy_tag(made)
        with pytest.raises(StashGraphQLError, match="does not exist in tags"):
            api.destroy_tag("999")
    assert plugin_stash.tag_named("phar: kissing") is not None
