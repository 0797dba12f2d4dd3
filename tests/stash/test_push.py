"""`phar stash push` against the fake Stash: finding scenes, the tags and markers it writes, and
what it never touches."""
from __future__ import annotations

import json
import random

from phar_cli.batch.catalog import Catalog
from phar_cli.core.action_profile import profile

from tests.stash.conftest import KEY, phar, write_predictions
from tests.stash.test_oshash import reference

K, F, D = ("kissing", 0.9), ("fondling", 0.8), ("doggy", 0.7)


def markers(stash, scene_id):
    """(primary tag, title, start, end, other tags) of a scene's markers, by start."""
    return [(stash.tags[m.primary_tag_id].name, m.title, m.seconds, m.end_seconds,
             sorted(stash.tags[t].name for t in m.tag_ids)) for m in stash.markers_of(scene_id)]


def tag_creates(stash):
    return sum("tagCreate" in r["query"] for r in stash.requests)


def test_finds_the_scene_by_its_exact_path_and_writes_markers_and_tags(stash, tmp_path, capsys):
    video = tmp_path / "lib" / "a_1.mp4"
    lookalike = stash.add_scene(str(tmp_path / "lib" / "aX1.mp4"))  # LIKE 'a_1' matches it too
    scene = stash.add_scene(str(video))
    preds = write_predictions(tmp_path / "a.json", video, [K, K, F, D, D, D])
    code, out, err = phar(capsys, "push", preds, "--url", stash.url)
    assert code == 0, err
    assert markers(stash, scene) == [
        ("kissing", "kissing 90%", 0.0, 14.0, ["phar"]),
        ("fondling", "fondling 80%", 14.0, 21.0, ["phar"]),
        ("doggy", "doggy 70%", 21.0, 42.0, ["phar"])]
    assert stash.markers_of(lookalike) == []
    assert stash.scene_tag_names(scene) == {"doggy", "kissing", "fondling", "phar: analysed"}
    assert {t.name for t in stash.tags.values()} == {
        "phar", "phar: analysed", "phar: incorrect", "kissing", "fondling", "doggy"}
    parent = stash.tag_named("phar").id
    assert all(t.parent_ids == [parent] for t in stash.tags.values() if t.name != "phar")
    assert "1 scenes pushed" in out and "wrote 3 markers" in out


def test_path_map_and_oshash_find_scenes_elsewhere(stash, tmp_path, capsys):
    here = tmp_path / "mnt" / "videos"
    mapped = stash.add_scene("/data/videos/sub/m.mp4")
    write_predictions(tmp_path / "in" / "m.json", here / "sub" / "m.mp4", [K, K])
    video = tmp_path / "elsewhere" / "h.mp4"
    video.parent.mkdir()
    data = random.Random(3).randbytes(150_000)
    video.write_bytes(data)
    hashed = stash.add_scene("/nowhere/renamed.mp4", oshash=reference(data), size=len(data))
    write_predictions(tmp_path / "in" / "h.json", video, [F, F])
    write_predictions(tmp_path / "in" / "lost.json", tmp_path / "lost.mp4", [D])
    code, out, err = phar(capsys, "push", tmp_path / "in", "--url", stash.url, "--json",
                          "--path-map", f"{here}=/data/videos")
    assert code == 0, err   # a video without a scene is reported, not fatal
    report = json.loads(out)
    by_name = {s["predictions"].rsplit("/", 1)[-1]: s for s in report["scenes"]}
    assert (by_name["m.json"]["found_by"], by_name["m.json"]["scene_id"]) == ("path", mapped)
    assert by_name["m.json"]["remote"] == "/data/videos/sub/m.mp4"
    assert (by_name["h.json"]["found_by"], by_name["h.json"]["scene_id"]) == ("oshash", hashed)
    assert by_name["lost.json"]["status"] == "no-scene"
    assert "no scene in Stash has the file" in by_name["lost.json"]["error"]
    assert [m[0] for m in markers(stash, mapped)] == ["kissing"]
    assert [m[0] for m in markers(stash, hashed)] == ["fondling"]
    code, out, err = phar(capsys, "push", tmp_path / "in" / "h.json", "--url", stash.url,
                          "--no-oshash", "--json")
    assert json.loads(out)["scenes"][0]["status"] == "no-scene"


def test_tags_are_created_once_across_scenes_and_reruns(stash, tmp_path, capsys):
    for name, tops in (("a", [K, F]), ("b", [F, K, D]), ("c", [K])):
        stash.add_scene(str(tmp_path / f"{name}.mp4"))
        write_predictions(tmp_path / "in" / f"{name}.json", tmp_path / f"{name}.mp4", tops)
    assert phar(capsys, "push", tmp_path / "in", "--url", stash.url)[0] == 0
    assert tag_creates(stash) == 6   # phar, status, incorrect, kissing, fondling, doggy
    mutations = stash.mutations
    code, out, _ = phar(capsys, "push", tmp_path / "in", "--url", stash.url)
    assert code == 0 and "3 unchanged" in out
    assert tag_creates(stash) == 6 and stash.mutations == mutations   # nothing written again
    assert len(stash.tags) == 6


def test_a_persons_tag_of_the_same_name_is_used_not_copied(stash, tmp_path, capsys):
    mine = stash.add_tag("Kissing")
    scene = stash.add_scene(str(tmp_path / "a.mp4"))
    write_predictions(tmp_path / "a.json", tmp_path / "a.mp4", [K])
    assert phar(capsys, "push", tmp_path / "a.json", "--url", stash.url)[0] == 0
    assert stash.markers_of(scene)[0].primary_tag_id == int(mine)
    assert stash.tags[int(mine)].parent_ids == []   # a person's tag is not reparented
    assert stash.tag_named("kissing").id == int(mine)


def test_old_stash_gets_point_markers_and_is_told_once(old_stash, tmp_path, capsys):
    scenes = []
    for name in ("a", "b"):
        scenes.append(old_stash.add_scene(str(tmp_path / f"{name}.mp4")))
        write_predictions(tmp_path / "in" / f"{name}.json", tmp_path / f"{name}.mp4", [K, F, F])
    code, out, err = phar(capsys, "push", tmp_path / "in", "--url", old_stash.url)
    assert code == 0, err
    assert err.count("has no end times on markers (end_seconds)") == 1
    assert [(m.seconds, m.title) for m in old_stash.markers_of(scenes[0])] == \
        [(0.0, "kissing 90%"), (7.0, "fondling 80%")]
    mutations = old_stash.mutations
    code, out, _ = phar(capsys, "push", tmp_path / "in", "--url", old_stash.url)
    assert code == 0 and "2 unchanged" in out and old_stash.mutations == mutations


def test_a_rerun_replaces_only_phars_markers(stash, tmp_path, capsys):
    scene = stash.add_scene(str(tmp_path / "a.mp4"))
    preds = write_predictions(tmp_path / "a.json", tmp_path / "a.mp4", [K, K, F, F, D, D])
    assert phar(capsys, "push", preds, "--url", stash.url)[0] == 0
    mine = stash.add_tag("favourite")
    person = stash.add_marker(scene, 3.0, mine, 5.0, "my own")
    kissing, fondling, doggy = (m.id for m in stash.markers_of(scene) if m.title != "my own")
    stash.edit_marker(str(fondling), seconds=15.5)                  # a person corrected it
    flagged = stash.tag_named("phar: incorrect").id
    stash.edit_marker(str(doggy), tag_ids=[str(stash.tag_named("phar").id), str(flagged)])
    stash.tag_scene(scene, mine)
    before = {m.id: m for m in stash.markers_of(scene)}

    preds = write_predictions(tmp_path / "a.json", tmp_path / "a.mp4", [D, D, F, F, K, K])
    code, out, err = phar(capsys, "push", preds, "--url", stash.url, "--json")
    assert code == 0, err
    report = json.loads(out)["scenes"][0]
    assert [r["id"] for r in report["replace"]] == [str(kissing)]
    assert sorted(r["why"] for r in report["left_alone"]) == [
        "a person's marker", "flagged incorrect", "phar's, edited by a person"]
    after = {m.id: m for m in stash.markers_of(scene)}
    for kept in (int(person), fondling, doggy):
        assert after[kept] == before[kept]
    assert kissing not in after
    assert sorted((m[0], m[2], m[3]) for m in markers(stash, scene) if "phar" in m[4]) == [
        ("doggy", 0.0, 14.0), ("doggy", 28.0, 42.0), ("fondling", 14.0, 28.0),
        ("fondling", 15.5, 28.0), ("kissing", 28.0, 42.0)]
    assert "favourite" in stash.scene_tag_names(scene)


def test_dry_run_shows_a_table_per_scene_and_writes_nothing(stash, tmp_path, capsys):
    scene = stash.add_scene(str(tmp_path / "a.mp4"))
    preds = write_predictions(tmp_path / "a.json", tmp_path / "a.mp4", [K, F])
    code, out, err = phar(capsys, "push", preds, "--url", stash.url, "--dry-run")
    assert code == 0, err
    assert stash.mutations == 0 and stash.tags == {}
    assert f"scene {scene} (by path)" in err
    assert "create" in err and "kissing 90%" in err and "fondling 80%" in err
    assert "scene tags to add: fondling, kissing, phar: analysed" in err
    assert "would write 2 markers" in out
    assert phar(capsys, "push", preds, "--url", stash.url)[0] == 0
    stash.add_marker(scene, 1.0, stash.tag_named("kissing").id, 2.0, "mine")
    preds = write_predictions(tmp_path / "a.json", tmp_path / "a.mp4", [F, F])
    code, out, err = phar(capsys, "push", preds, "--url", stash.url, "--dry-run", "--json")
    report = json.loads(out)
    assert report["dry_run"] is True and report["counts"]["planned"] == 1
    s = report["scenes"][0]
    assert [(r["tag"], r["start"], r["end"]) for r in s["create"]] == [("fondling", 0.0, 14.0)]
    assert sorted(r["title"] for r in s["replace"]) == ["fondling 80%", "kissing 90%"]
    assert [r["title"] for r in s["left_alone"]] == ["mine"]
    assert len(stash.markers_of(scene)) == 3


def test_settings_from_csv_and_toml_shape_the_push(stash, tmp_path, capsys):
    scene = stash.add_scene(str(tmp_path / "a.mp4"))
    preds = write_predictions(tmp_path / "a.json", tmp_path / "a.mp4", [K, F, K, D], window=2.0)
    csv = tmp_path / "s.csv"
    csv.write_text("label,tag,max_gap,scene_tag\nkissing,Kissing,2,\ndoggy,,,false\n")
    assert phar(capsys, "push", preds, "--url", stash.url, "--settings", csv)[0] == 0
    assert [(m[0], m[2], m[3]) for m in markers(stash, scene)] == [
        ("Kissing", 0.0, 6.0), ("fondling", 2.0, 4.0), ("doggy", 6.0, 8.0)]
    assert stash.scene_tag_names(scene) == {"Kissing", "fondling", "phar: analysed"}

    other = stash.add_scene(str(tmp_path / "b.mp4"))
    preds = write_predictions(tmp_path / "b.json", tmp_path / "b.mp4", [K, F, F, D], window=2.0)
    toml = tmp_path / "s.toml"
    toml.write_text('parent_tag = "AI"\n[defaults]\nmin_marker_seconds = 3\n'
                    '[labels.fondling]\ntag = "Touching"\n')
    assert phar(capsys, "push", preds, "--url", stash.url, "--settings", toml)[0] == 0
    assert markers(stash, other) == [("Touching", "Touching 80%", 2.0, 6.0, ["AI"])]
    # tag names are matched in any case: the CSV push's "Kissing" is the kissing tag
    assert stash.scene_tag_names(other) == {"Kissing", "Touching", "doggy", "AI: analysed"}


def test_a_batch_output_folder_is_read_through_its_catalog(stash, tmp_path, capsys):
    outdir = tmp_path / "out"
    video = tmp_path / "library" / "sub" / "clip.mp4"
    scene = stash.add_scene(str(video))
    # the predictions' own path is relative to wherever `phar batch` ran; the catalog knows
    write_predictions(outdir / "sub" / "clip.json", "sub/clip.mp4", [K, K])
    write_predictions(outdir / "sub" / "failed.json", "sub/failed.mp4", [K])
    with Catalog.open(outdir) as catalog:
        ids = catalog.plan_videos([(str(video), "sub/clip", 10, 1, "h", 14.0, "pending"),
                                   (str(tmp_path / "failed.mp4"), "sub/failed", 10, 1, "h", 7.0,
                                    "pending")])
        run = catalog.start_run("local", 1, 2, 0)
        catalog.done(ids[0], catalog.begin(ids[0], run, "analyse"), analysis_hash="a",
                     outputs_hash="o", models={}, outputs=["sub/clip.json"], duration=14.0,
                     windows=2, seconds=1.0, worker="w", segments=[], tags=[],
                     profile=profile(14.0, {"kissing": 14.0}), look=None)
        catalog.failed(ids[1], catalog.begin(ids[1], run, "analyse"), "broken")
    code, out, err = phar(capsys, "push", outdir, "--url", stash.url)
    assert code == 0, err
    assert "1 of the catalog's 2 videos are not done" in err
    assert [(m[0], m[2], m[3]) for m in markers(stash, scene)] == [("kissing", 0.0, 14.0)]


def test_a_broken_predictions_file_is_reported_and_the_rest_pushed(stash, tmp_path, capsys):
    scene = stash.add_scene(str(tmp_path / "a.mp4"))
    write_predictions(tmp_path / "in" / "a.json", tmp_path / "a.mp4", [K])
    (tmp_path / "in" / "broken.json").write_text("{not json")
    code, out, err = phar(capsys, "push", tmp_path / "in", "--url", stash.url)
    assert code == 1
    assert "broken.json: not valid JSON" in err
    assert len(stash.markers_of(scene)) == 1


def test_wrong_key_is_one_line_exit_1_and_never_shows_the_key(stash, tmp_path, capsys, monkeypatch):
    write_predictions(tmp_path / "a.json", tmp_path / "a.mp4", [K])
    secret = "wrong-key-5e2d1b"
    monkeypatch.setenv("PHAR_STASH_API_KEY", secret)
    code, out, err = phar(capsys, "push", tmp_path / "a.json", "--url", stash.url)
    assert code == 1
    assert err.strip().count("\n") == 0 and "refused the API key" in err
    assert secret not in out + err and KEY not in out + err
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY + "\n")
    stash.add_scene(str(tmp_path / "a.mp4"))
    code, out, err = phar(capsys, "push", tmp_path / "a.json", "--url", stash.url,
                          "--api-key-file", key_file)
    assert code == 0 and KEY not in out + err


def test_unreachable_server_is_one_line_exit_1_and_quick(tmp_path, capsys):
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    write_predictions(tmp_path / "a.json", tmp_path / "a.mp4", [K])
    started = time.monotonic()
    code, out, err = phar(capsys, "push", tmp_path / "a.json", "--url", f"http://127.0.0.1:{port}",
                          "--retries", "1", "--timeout", "1")
    assert time.monotonic() - started < 5
    assert code == 1 and err.strip().count("\n") == 0
    assert f"127.0.0.1:{port}/graphql cannot be reached" in err


def test_a_graphql_error_is_one_line_exit_1(stash, tmp_path, capsys):
    stash.add_scene(str(tmp_path / "a.mp4"))
    write_predictions(tmp_path / "a.json", tmp_path / "a.mp4", [K])
    stash.break_field("sceneMarkerCreate", "database is locked")
    code, out, err = phar(capsys, "push", tmp_path / "a.json", "--url", stash.url)
    assert code == 1 and err.strip().count("\n") == 0
    assert "rejected the request: database is locked" in err


def test_two_predictions_of_one_scene_push_only_the_first(stash, tmp_path, capsys):
    scene = stash.add_scene(str(tmp_path / "a.mp4"))
    write_predictions(tmp_path / "in" / "1.json", tmp_path / "a.mp4", [K])
    write_predictions(tmp_path / "in" / "2.json", tmp_path / "a.mp4", [F])
    code, out, err = phar(capsys, "push", tmp_path / "in", "--url", stash.url)
    assert code == 1
    assert f"2.json: its scene {scene} was already pushed from" in err
    assert [m[0] for m in markers(stash, scene)] == ["kissing"]


def test_content_free_time_is_never_marked(stash, tmp_path, capsys):
    from phar_cli.core.content import ContentOptions, content_of, sample_times
    from phar_cli.core.predictions import load_predictions

    video = tmp_path / "lib" / "c.mp4"
    scene = stash.add_scene(str(video))
    preds = write_predictions(tmp_path / "c.json", video, [K, K, D, D])
    analysis = load_predictions(preds)
    # the content stream called 10 s to 24 s content-free (the models have no background class)
    scores = [0.9] * 10 + [0.01] * 14 + [0.9] * 4
    analysis.content = content_of(sample_times(28, 1), scores, 28, ContentOptions(), False)
    preds.write_bytes(analysis.to_json())
    code, _, err = phar(capsys, "push", preds, "--url", stash.url)
    assert code == 0, err
    assert markers(stash, scene) == [("kissing", "kissing 90%", 0.0, 10.0, ["phar"]),
                                     ("doggy", "doggy 70%", 24.0, 28.0, ["phar"])]
