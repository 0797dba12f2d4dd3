"""The skeleton front end by name: which model files each backend needs, found where the others
are, and the manifest's RTMO entries as mmpose publishes them (no network: a local mirror)."""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
import yaml

from phar_cli.errors import InvalidOption, ModelNotFound
from phar_cli.models.bundle import ModelOverrides, needed_models, resolve_models
from phar_cli.models.download import fetch
from phar_cli.models.pose_backends import (POSE_BACKENDS, check_backend, load_pose_estimator,
                                           needs_model_files, pose_model_names)
from phar_cli.models.registry import config_dir, load_manifest

RTMO = {"rtmo-s": "rtmo-s_8xb32-600e_coco-640x640", "rtmo-m": "rtmo-m_16xb16-600e_coco-640x640",
        "rtmo-l": "rtmo-l_16xb16-600e_coco-640x640"}


def mmpose_configs() -> Path:
    import mmpose

    return Path(mmpose.__file__).parent / ".mim" / "configs"


@pytest.mark.parametrize("backend, files", [
    ("mmpose", ["skeleton", "det", "pose"]), ("markers", ["skeleton"]),
    ("rtmo-s", ["skeleton", "rtmo-s"]), ("rtmo-m", ["skeleton", "rtmo-m"]),
    ("rtmo-l", ["skeleton", "rtmo-l"])])
def test_each_backend_names_its_own_model_files(backend, files):
    assert needed_models(("skeleton",), backend) == files
    assert needed_models(("rgb", "skeleton", "audio"), backend) == ["rgb", *files, "audio"]
    assert needed_models(("rgb", "audio"), backend) == ["rgb", "audio"]
    assert needs_model_files(backend) == (backend == "mmpose")
    assert list(pose_model_names(backend)) == files[1:]


def test_an_unknown_backend_lists_the_known_ones():
    assert POSE_BACKENDS[0] == "mmpose"  # the seed's front end, the default
    with pytest.raises(InvalidOption, match=r"pose_backend 'rtmo-x': use mmpose "
                                            r"\(faster-rcnn\+hrnet\), rtmo-s, rtmo-m, rtmo-l or markers"):
        check_backend("rtmo-x")


def test_rtmo_files_resolve_from_phar_home_and_say_how_to_get_them(isolated_home):
    entry = load_manifest()["rtmo-s"]
    home = isolated_home / "models"
    home.mkdir(parents=True)
    (home / "posec3d.pth").write_bytes(b"x")
    with pytest.raises(ModelNotFound, match=f"file {entry.file} \\(rtmo-s\\) not found .*; run: "
                                            "phar models fetch rtmo-s  \\(or pass --rtmo-s-checkpoint"):
        resolve_models(("skeleton",), ModelOverrides(), "rtmo-s")
    (home / entry.file).write_bytes(b"x")
    files = resolve_models(("skeleton",), ModelOverrides(), "rtmo-s")
    assert list(files) == ["skeleton", "rtmo-s"]
    assert files["rtmo-s"].checkpoint == home / entry.file
    assert files["rtmo-s"].config == config_dir() / "pose/rtmo-s.py"
    # a caller that resolves only the two-stage files still gets RTMO's from $PHAR_HOME
    (home / entry.file).unlink()
    with pytest.raises(ModelNotFound, match="phar models fetch rtmo-s"):
        load_pose_estimator("rtmo-s", {}, "cpu")


@pytest.mark.parametrize("name", list(RTMO))
def test_rtmo_manifest_entries_are_mmposes_published_models(name):
    entry = load_manifest()[name]
    published = yaml.safe_load(
        (mmpose_configs() / "body_2d_keypoint/rtmo/coco/rtmo_coco.yml").read_text())
    model = next(m for m in published["Models"] if m["Name"] == RTMO[name])
    assert entry.url == model["Weights"]
    assert entry.file == model["Weights"].rsplit("/", 1)[-1]
    assert entry.file.startswith(RTMO[name] + f"-{entry.sha256_prefix}_")
    assert entry.sha256 is None and len(entry.sha256_prefix) == 8
    assert entry.license.startswith("Apache-2.0") and "OpenMMLab" in entry.license
    assert "rtmo_coco.yml" in entry.source and entry.labels is None
    # phar's config only names the config mmpose ships for those weights
    text = entry.config_path.read_text()
    assert f"'mmpose::body_2d_keypoint/rtmo/coco/{RTMO[name]}.py'" in text
    assert (mmpose_configs() / f"body_2d_keypoint/rtmo/coco/{RTMO[name]}.py").is_file()


def test_phar_models_fetch_rtmo_s_downloads_and_checks_its_prefix(isolated_home, file_server,
                                                                  monkeypatch, capsys):
    from tests.conftest import run_phar

    entry = load_manifest()["rtmo-s"]
    monkeypatch.setenv("PHAR_MODELS_MIRROR", file_server.base)
    file_server.add(entry.file, b"not the published weights")
    code, _, err = run_phar(["-q", "models", "fetch", "rtmo-s"], capsys)
    assert code == 1 and f"expected sha256 {entry.sha256_prefix}" in err
    assert file_server.hits[f"/{entry.file}"] == 1
    home = isolated_home / "models"
    assert not (home / entry.file).exists()
    # the same entry with a payload whose digest it names: downloaded where resolution looks
    payload = b"weights"
    digest = hashlib.sha256(payload).hexdigest()
    file_server.add(entry.file, payload)
    result = fetch(dataclasses.replace(entry, sha256_prefix=digest[:8]), home)
    assert result.verified == "sha256-prefix" and (home / entry.file).read_bytes() == payload
    (home / "posec3d.pth").write_bytes(b"x")
    assert resolve_models(("skeleton",), ModelOverrides(), "rtmo-s")["rtmo-s"].checkpoint == \
        home / entry.file
