"""A push killed after any one of its writes is completed by the next run: the same markers and
tags as a push that was never stopped, nothing twice, nothing of a person's lost. The fake
server fails every mutation after the n-th (and, with `applied`, runs the failing one first, as
when the answer is lost on the way back)."""
from __future__ import annotations

import pytest

from phar_cli.stash.api import StashApi
from phar_cli.stash.client import StashClient, StashServerError
from phar_cli.stash.push import PushOptions, push
from phar_cli.stash.sources import PushItem

from tests.stash.conftest import KEY, phar, write_predictions
from tests.stash.fake_stash import FakeStash

K, F, D = ("kissing", 0.9), ("fondling", 0.8), ("doggy", 0.7)


def library(tmp_path):
    """Two scenes: `a` pushed once before and touched by a person since, `b` new. Returns the
    server and the predictions of the push under test."""
    stash = FakeStash(api_key=KEY)
    stash.start()
    a, b = stash.add_scene(str(tmp_path / "a.mp4")), stash.add_scene(str(tmp_path / "b.mp4"))
    first = write_predictions(tmp_path / "first" / "a.json", tmp_path / "a.mp4", [K, K, F, F])
    run(stash, [first])
    mine = stash.add_tag("mine")
    fondling = next(m for m in stash.markers_of(a) if m.title == "fondling 80%")
    stash.edit_marker(str(fondling.id), seconds=15.0)   # phar's marker, corrected by a person
    stash.add_marker(a, 2.0, mine, 3.0, "a person's")
    stash.tag_scene(a, mine)
    second = [write_predictions(tmp_path / "second" / "a.json", tmp_path / "a.mp4", [D, F, F, K]),
              write_predictions(tmp_path / "second" / "b.json", tmp_path / "b.mp4", [F, K])]
    return stash, (a, b), second


def run(stash, predictions):
    with StashApi(StashClient(stash.url, KEY, retries=0)) as api:
        return push(api, [PushItem(p) for p in predictions], PushOptions())


def state(stash, scenes):
    """Everything a person sees: each scene's markers (with ids of the ones phar did not make
    in this push) and tags, and the server's tags."""
    out = []
    for scene in scenes:
        marks = sorted((stash.tags[m.primary_tag_id].name, m.title, m.seconds, m.end_seconds,
                        tuple(sorted(stash.tags[t].name for t in m.tag_ids)))
                       for m in stash.markers_of(scene))
        out.append((marks, sorted(stash.scene_tag_names(scene))))
    return out, sorted(t.name for t in stash.tags.values())


@pytest.fixture
def reference(tmp_path_factory):
    """The state after the push under test ran without being stopped, and its mutation count."""
    stash, scenes, second = library(tmp_path_factory.mktemp("ref"))
    before = stash.mutations
    run(stash, second)
    yield state(stash, scenes), stash.mutations - before
    stash.stop()


@pytest.mark.parametrize("applied", [False, True], ids=["lost-request", "lost-answer"])
def test_a_push_killed_after_any_write_is_completed_by_the_next(tmp_path, reference, applied):
    expected, writes = reference
    # a new tag (doggy), status off, creates, destroys, scene tags: each kind of write is cut
    assert writes == 10
    for n in range(writes):
        stash, scenes, second = library(tmp_path / f"{n}")
        try:
            person = {m.id: m for s in scenes for m in stash.markers_of(s) if m.title == "a person's"}
            stash.fail_after(stash.mutations + n, applied=applied)
            with pytest.raises(StashServerError):
                run(stash, second)
            stash.fail_after(None)
            run(stash, second)
            assert state(stash, scenes) == expected, f"killed after write {n}"
            assert {m.id: m for s in scenes for m in stash.markers_of(s)
                    if m.title == "a person's"} == person
        finally:
            stash.stop()


def test_the_cli_stops_with_one_line_and_the_rerun_completes(tmp_path, capsys, monkeypatch,
                                                              reference):
    expected, writes = reference
    stash, scenes, second = library(tmp_path)
    monkeypatch.setenv("PHAR_STASH_API_KEY", KEY)
    try:
        stash.fail_after(stash.mutations + writes // 2)
        code, out, err = phar(capsys, "push", tmp_path / "second", "--url", stash.url,
                              "--retries", "0")
        assert code == 1
        assert [line for line in err.splitlines() if "error:" in line] == [
            f"error: Stash at {stash.url}/graphql answered HTTP 500"]
        stash.fail_after(None)
        code, out, err = phar(capsys, "push", tmp_path / "second", "--url", stash.url)
        assert code == 0, err
        assert state(stash, scenes) == expected
    finally:
        stash.stop()
