"""phar's Stash plugin run as Stash runs it (tests/stash_plugin/conftest.py): its tasks against
the test Stash, with files on disk."""
from __future__ import annotations

import time

import pytest
import yaml

from phar_cli.stash_plugin.manifest import SETTINGS, TASKS, install, manifest_text
from tests.conftest import run_phar
from tests.stash_plugin.conftest import SESSION

# Stash's plugin Config (pkg/plugin/config.go) reads YAML strictly: only these keys load
MANIFEST_KEYS = {"name", "description", "url", "version", "interface", "exec", "errLog", "tasks",
                 "hooks", "ui", "settings"}
TASK_KEYS = {"name", "description", "execArgs", "defaultArgs"}
HOOK_KEYS = TASK_KEYS | {"triggeredBy"}
SETTING_KEYS = {"type", "displayName", "description"}


def queued(plugin, videos, names):
    """Scenes of these videos, each with the queue tag; returns name -> scene id."""
    stash = plugin.stash
    tag = stash.add_tag("phar: queue")
    ids = {}
    for name in names:
        ids[name] = stash.add_scene(str(videos[name]), title=name)
        stash.tag_scene(ids[name], tag)
    return ids


def marker_rows(stash, scene_id):
    return sorted((m.title, m.seconds, m.end_seconds) for m in stash.markers_of(scene_id))


def test_the_manifest_is_one_stash_loads(tmp_path, capsys):
    data = yaml.safe_load(manifest_text("/opt/phar/bin/python"))
    assert set(data) <= MANIFEST_KEYS and data["interface"] == "raw"
    assert data["exec"] == ["/opt/phar/bin/python", "{pluginDir}/phar_plugin.py"]
    assert [t["name"] for t in data["tasks"]] == [t.name for t in TASKS]
    for task in data["tasks"]:
        assert set(task) <= TASK_KEYS and all(isinstance(v, str)
                                              for v in task["defaultArgs"].values())
    [hook] = data["hooks"]
    assert set(hook) <= HOOK_KEYS and hook["triggeredBy"] == ["Scene.Create.Post"]
    assert set(data["settings"]) == {s.key for s in SETTINGS}
    for setting in data["settings"].values():
        assert set(setting) <= SETTING_KEYS and setting["type"] in ("STRING", "NUMBER", "BOOLEAN")
    code, out, _ = run_phar(["stash", "plugin", "install", "--print"], capsys)
    assert code == 0 and yaml.safe_load(out)["name"] == "phar"


def test_install_replaces_only_phars_folder(tmp_path, capsys):
    plugins = tmp_path / "plugins"
    (plugins / "other").mkdir(parents=True)
    (plugins / "other" / "other.yml").write_text("name: other\n")
    (plugins / "phar").mkdir()
    (plugins / "phar" / "stale.txt").write_text("from an older phar")
    code, out, err = run_phar(["stash", "plugin", "install", plugins], capsys)
    assert code == 0, err
    assert sorted(p.name for p in (plugins / "phar").iterdir()) == ["phar.yml", "phar_plugin.py"]
    assert (plugins / "other" / "other.yml").read_text() == "name: other\n"
    assert "Reload plugins" in err
    code, _, err = run_phar(["stash", "plugin", "install", tmp_path / "nowhere"], capsys)
    assert code == 1 and "no such folder" in err


def test_queued_scenes_get_markers_and_tags_and_leave_the_queue(plugin, scene_videos):
    ids = queued(plugin, scene_videos, ["one", "two", "broken"])
    untouched = plugin.stash.add_scene(str(scene_videos["three"]), title="three")
    run = plugin.run("Analyse queued scenes")
    assert run.code == 0, run.log
    assert run.output["error"] is None and run.output["output"]["done"] == 2
    stash = plugin.stash
    for name in ("one", "two"):
        rows = marker_rows(stash, ids[name])
        tags = stash.scene_tag_names(ids[name])
        assert rows and all(end is not None for _, _, end in rows), name  # with end times
        assert "phar: analysed" in tags and "phar: queue" not in tags
        assert {title.rsplit(" ", 1)[0] for title, _, _ in rows} <= tags  # the labels' tags
    # the unreadable file: the error tag, named in the log; the task went on
    assert stash.scene_tag_names(ids["broken"]) >= {"phar: queue", "phar: error"}
    assert any(str(scene_videos["broken"]) in m for m in run.messages("error"))
    assert not marker_rows(stash, untouched) and not stash.scene_tag_names(untouched)
    # progress as Stash parses it: fractions from 0 to 1, never backwards; a line a scene
    assert run.progress[-1] == 1.0 and run.progress == sorted(run.progress)
    assert all(0.0 <= p <= 1.0 for p in run.progress)
    assert sum(str(scene_videos[n]) in m for n in ("one", "two", "broken")
               for m in run.messages("info")) >= 3
    assert all(level is not None for level, _ in run.log)  # every line in Stash's protocol
    # the server wants credentials and the plugin sent no key: Stash's session was enough


def test_a_second_run_writes_nothing_new(plugin, scene_videos):
    ids = queued(plugin, scene_videos, ["one"])
    assert plugin.run("Analyse queued scenes").code == 0
    before = marker_rows(plugin.stash, ids["one"])
    mutations = len([r for r in plugin.stash.requests if "mutation" in r["query"]])
    run = plugin.run("Analyse all unanalysed scenes")
    assert run.code == 0 and run.output["output"]["scenes"] == 0
    plugin.stash.tag_scene(ids["one"], plugin.stash.tag_named("phar: queue").id)
    run = plugin.run("Analyse queued scenes")
    assert run.code == 0 and run.output["output"]["analysed"] == 0  # from the catalog
    assert marker_rows(plugin.stash, ids["one"]) == before
    new = [r for r in plugin.stash.requests if "mutation" in r["query"]][mutations:]
    assert all("SceneMarker" not in r["query"] for r in new)  # only the queue tag taken off


def test_a_task_killed_half_way_then_run_again_leaves_no_duplicate(plugin, scene_videos):
    ids = queued(plugin, scene_videos, ["one", "two", "three"])
    proc = plugin.start(plugin.task_args("Analyse queued scenes"))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not any(plugin.stash.markers_of(i) for i in
                                                  ids.values()):
        time.sleep(0.05)
    proc.kill()  # as Stash stops a raw plugin: SIGKILL, nothing else
    proc.wait()
    run = plugin.run("Analyse queued scenes")
    assert run.code == 0, run.log
    for name, scene in ids.items():
        rows = marker_rows(plugin.stash, scene)
        assert rows and len(rows) == len(set(rows)), name
        assert "phar: queue" not in plugin.stash.scene_tag_names(scene)


def test_the_hook_only_tags_and_only_when_asked(plugin, scene_videos):
    scene = plugin.stash.add_scene(str(scene_videos["one"]), title="new")
    hook = {"task": "queue-new", "hookContext": {"id": int(scene), "type": "Scene.Create.Post",
                                                 "input": {"title": "new"}}}
    run = plugin.run(args=hook)
    assert run.code == 0 and run.output["output"]["queued"] is False
    assert not plugin.stash.scene_tag_names(scene)
    plugin.stash.plugin_settings["phar"]["queue_new_scenes"] = True
    run = plugin.run(args=hook)
    assert run.code == 0 and plugin.stash.scene_tag_names(scene) == {"phar: queue"}
    assert not plugin.stash.markers_of(scene)


def test_pull_recommend_and_undo(plugin, scene_videos):
    ids = queued(plugin, scene_videos, ["one", "two"])
    assert plugin.run("Analyse queued scenes").code == 0
    stash = plugin.stash
    # a person corrects one of phar's markers and makes one of their own
    mine = stash.markers_of(ids["one"])[0]
    stash.edit_marker(str(mine.id), seconds=0.5)
    run = plugin.run("Pull corrections")
    assert run.code == 0 and run.output["output"]["rows"] == 1
    csv = run.output["output"]["annotations"]
    assert open(csv).read().splitlines()[1].startswith(str(scene_videos["one"]))
    # recommend: 'one' played, so 'two' is recommended and nothing changes in Stash
    stash.scenes[int(ids["one"])].play_history.insert(0, "2026-11-30T20:00:00Z")
    mutations = len([r for r in stash.requests if "mutation" in r["query"]])
    run = plugin.run("Recommend")
    assert run.code == 0, run.log
    assert run.output["output"]["count"] == 1
    assert len([r for r in stash.requests if "mutation" in r["query"]]) == mutations
    # undo: phar's markers and tags go; the edited marker and its tag stay
    run = plugin.run("Remove what phar made")
    assert run.code == 0, run.log
    assert [m.id for m in stash.markers_of(ids["one"])] == [mine.id]
    assert not stash.markers_of(ids["two"])
    assert "phar: analysed" not in stash.scene_tag_names(ids["two"])
    assert stash.tag_named("phar: analysed") is None
    # and a push writes everything again
    run = plugin.run("Push results")
    assert run.code == 0 and stash.markers_of(ids["two"])


def test_bad_settings_and_a_refused_session_end_as_stash_expects(plugin):
    plugin.stash.plugin_settings["phar"]["profile"] = "turbo"
    run = plugin.run("Analyse queued scenes")
    assert run.code == 1 and "'Profile'" in run.output["error"] and "turbo" in run.output["error"]
    assert run.messages("error") and all(level is not None for level, _ in run.log)
    plugin.stash.plugin_settings["phar"]["profile"] = "reference"
    plugin.stash.expire_sessions()
    run = plugin.run("Analyse queued scenes")
    assert run.code == 1 and "session cookie" in run.output["error"]
    assert SESSION not in run.output["error"] and len(run.output["error"].splitlines()) == 1
    assert all(SESSION not in message for _, message in run.log)



def test_an_api_key_in_the_settings_is_sent_and_never_shown(plugin):
    plugin.stash.plugin_settings["phar"]["api_key"] = "not-the-key-4411"
    run = plugin.run("Analyse queued scenes")  # Stash checks a key before the session
    assert run.code == 1 and "refused the API key" in run.output["error"]
    assert "not-the-key-4411" not in run.output["error"] + "".join(m for _, m in run.log)
    plugin.stash.plugin_settings["phar"]["api_key"] = plugin.stash.api_key
    run = plugin.run("Analyse queued scenes")
    assert run.code == 0 and run.output["output"] == {"scenes": 0}
