"""`phar batch --stash`: each video pushed as it finishes, recorded in the catalog, and a rerun
pushes only what is new or was pushed with other settings."""
from __future__ import annotations

import orjson
import pytest

from tests.batch.conftest import make_library, query, rgb_args, video_stock  # noqa: F401 - fixtures
from tests.conftest import run_phar


@pytest.fixture
def library(tmp_path, video_stock):  # noqa: F811
    return make_library(tmp_path / "lib", video_stock, ["a.mp4", "sub/b.mp4"])


def batch(capsys, library, out, stash, rgb_args, *extra):
    return run_phar(["-q", "batch", library, "-o", out, "--workers", "1", "--stash", stash.url,
                     "--device", "cpu", *rgb_args, *extra], capsys)


def test_each_video_is_pushed_once_and_again_only_when_something_changed(
        stash, library, tmp_path, rgb_args, capsys):
    a = stash.add_scene(str((library / "a.mp4").resolve()))
    out = tmp_path / "out"
    code, _, err = batch(capsys, library, out, stash, rgb_args)
    assert code == 0, err
    assert stash.markers_of(a)  # pushed as it finished
    rows = dict(query(out, "SELECT v.relpath, p.status FROM stash_pushes p JOIN videos v "
                           "ON v.id = p.video_id"))
    assert rows == {"a": "pushed", "sub/b": "no-scene"}  # b has no scene: recorded, not fatal
    writes = stash.mutations
    b = stash.add_scene(str((library / "sub/b.mp4").resolve()))  # b appears in Stash
    code, _, err = batch(capsys, library, out, stash, rgb_args)
    assert code == 0, err
    assert stash.markers_of(b) and stash.markers_of(a)
    pushed_b = stash.mutations
    assert pushed_b > writes  # only b was pushed: a's markers are as they were
    code, _, err = batch(capsys, library, out, stash, rgb_args)
    assert code == 0 and stash.mutations == pushed_b  # nothing new, nothing pushed
    settings = tmp_path / "stash.toml"
    settings.write_text('parent_tag = "phar-v2"\n')
    code, _, err = batch(capsys, library, out, stash, rgb_args, "--stash-settings", settings)
    assert code == 0, err
    assert stash.mutations > pushed_b and stash.tag_named("phar-v2") is not None


def test_a_wrong_key_stops_before_any_video_is_analysed(stash, library, tmp_path, rgb_args,
                                                        capsys, monkeypatch):
    monkeypatch.setenv("PHAR_STASH_API_KEY", "wrong")
    code, _, err = batch(capsys, library, tmp_path / "out", stash, rgb_args)
    assert code == 1 and "wrong" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "a.json").exists()


def test_a_scene_with_the_servers_vr_tag_is_analysed_as_vr(stash, tmp_path, rgb_args, capsys):
    from tests.media.test_vr import stereo

    library = tmp_path / "lib"
    library.mkdir()
    vr = stereo(library, "holiday.mp4", "hstack", "gamma", None)   # no marker in its name
    flat = stereo(library, "other.mp4", "hstack", "gamma", None)
    stash.ui["vrTag"] = "Virtual Reality"
    scene = stash.add_scene(str(vr.resolve()))
    stash.tag_scene(scene, stash.add_tag("Virtual Reality"))
    stash.add_scene(str(flat.resolve()))
    out = tmp_path / "out"
    code, _, err = batch(capsys, library, out, stash, rgb_args)
    assert code == 0, err
    config = {name: orjson.loads((out / f"{name}.json").read_bytes())["config"]
              for name in ("holiday", "other")}
    assert config["holiday"]["vr"] == "sbs" and "vr" not in config["other"]
