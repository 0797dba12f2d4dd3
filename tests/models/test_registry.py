from __future__ import annotations

import importlib.resources
import json
import urllib.parse
from pathlib import Path

import pytest

from phar_cli.errors import ModelLoadError, ModelNotFound
from phar_cli.models.registry import (
    DEFAULT_MANIFEST,
    ModelEntry,
    config_dir,
    find_model_file,
    get_entry,
    load_manifest,
    models_home,
    shipped_path,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def phar_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "phar-home"
    monkeypatch.setenv("PHAR_HOME", str(home))
    return home


def test_shipped_manifest_lists_the_models_in_order():
    manifest = load_manifest()
    assert list(manifest) == ["rgb", "skeleton", "audio", "det", "pose", "rtmo-s", "rtmo-m",
                              "rtmo-l"]
    assert manifest["rgb"].file == "timeSformer.pth"
    assert manifest["skeleton"].file == "posec3d.pth"
    assert manifest["audio"].file == "audio.pth"


def test_shipped_manifest_paths_and_urls_are_consistent():
    for entry in load_manifest().values():
        assert entry.config.startswith("configs/"), entry
        assert entry.config.endswith(".py")
        assert entry.url.startswith("https://")
        assert urllib.parse.urlsplit(entry.url).path.rsplit("/", 1)[-1] == entry.file
        if entry.sha256_prefix:
            assert f"-{entry.sha256_prefix}" in entry.file


def test_the_three_har_models_name_an_existing_label_file():
    manifest = load_manifest()
    expected = {"rgb": "annotations.txt", "skeleton": "annotations_pose.txt",
                "audio": "annotations_audio.txt"}
    for name, label_file in expected.items():
        entry = manifest[name]
        assert entry.labels == f"configs/labels/{label_file}"
        assert entry.labels_path.is_file()
        assert entry.labels_path.parent == config_dir() / "labels"
    assert manifest["det"].labels is None and manifest["pose"].labels is None


def test_openmmlab_models_carry_their_published_sha256_prefix():
    manifest = load_manifest()
    assert manifest["det"].sha256_prefix == "a5d8aa15"
    assert manifest["pose"].sha256_prefix == "c78dce93"
    assert manifest["rgb"].sha256 is None and manifest["rgb"].sha256_prefix is None


def test_models_home_default_and_phar_home(monkeypatch, tmp_path):
    monkeypatch.delenv("PHAR_HOME", raising=False)
    assert models_home() == Path.home() / ".cache" / "phar" / "models"
    monkeypatch.setenv("PHAR_HOME", str(tmp_path))
    assert models_home() == tmp_path / "models"


def test_the_option_path_wins_over_models_home(phar_home, tmp_path):
    entry = get_entry("rgb")
    (phar_home / "models").mkdir(parents=True)
    (phar_home / "models" / entry.file).write_bytes(b"home")
    mine = tmp_path / "mine.pth"
    mine.write_bytes(b"mine")
    assert find_model_file("rgb", option=str(mine), entry=entry) == mine


def test_a_missing_option_path_is_an_error_naming_it_even_if_home_has_one(phar_home, tmp_path):
    entry = get_entry("rgb")
    (phar_home / "models").mkdir(parents=True)
    (phar_home / "models" / entry.file).write_bytes(b"home")
    missing = tmp_path / "nope.pth"
    with pytest.raises(ModelNotFound) as info:
        find_model_file("rgb", option=missing, entry=entry)
    assert str(info.value) == f"model file {missing} given by --rgb-checkpoint not found"


def test_models_home_is_used_without_an_option(phar_home):
    entry = get_entry("skeleton")
    (phar_home / "models").mkdir(parents=True)
    (phar_home / "models" / entry.file).write_bytes(b"x")
    assert find_model_file("skeleton", option=None, entry=entry) == phar_home / "models" / "posec3d.pth"
    # Without an entry, the name is looked up in the shipped manifest.
    assert find_model_file("skeleton") == phar_home / "models" / "posec3d.pth"


def test_not_found_is_one_line_naming_file_place_and_command(phar_home):
    with pytest.raises(ModelNotFound) as info:
        find_model_file("rgb", option=None, entry=get_entry("rgb"))
    message = str(info.value)
    assert message == (
        f"model file timeSformer.pth (rgb) not found in {phar_home / 'models'}; "
        "run: phar models fetch rgb  (or pass --rgb-checkpoint PATH)"
    )
    assert "\n" not in message


def test_a_path_instead_of_a_name(phar_home, tmp_path):
    ckpt = tmp_path / "best.pth"
    ckpt.write_bytes(b"x")
    assert find_model_file(ckpt) == ckpt
    with pytest.raises(ModelNotFound, match="known models: rgb, skeleton, audio, det, pose"):
        find_model_file("rbg")


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ModelNotFound, match="unknown model 'x'; known models: rgb, skeleton"):
        get_entry("x")


def _write_manifest(tmp_path, models) -> Path:
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"schema": 1, "models": models}))
    return path


def _raw(**kw):
    raw = {"name": "m", "file": "m.pth", "url": "https://example.invalid/m.pth",
           "config": "configs/m.py", "sha256": None, "sha256_prefix": None, "size": None}
    raw.update(kw)
    return raw


def test_a_custom_manifest_loads_into_entries(tmp_path):
    path = _write_manifest(tmp_path, [_raw(sha256="AB" * 32, sha256_prefix="abababab", size=3)])
    entry = load_manifest(path)["m"]
    assert entry == ModelEntry(name="m", file="m.pth", url="https://example.invalid/m.pth",
                               sha256="ab" * 32, sha256_prefix="abababab", size=3,
                               config="configs/m.py")
    assert entry.checkpoint_option == "--m-checkpoint"


@pytest.mark.parametrize(
    "models, match",
    [
        ([_raw(), _raw()], "listed twice"),
        ([_raw(sha256="abc")], "64 hex digits"),
        ([_raw(sha256_prefix="xyz")], "8 hex digits"),
        ([_raw(sha256="ab" * 32, sha256_prefix="cdcdcdcd")], "does not start with"),
        ([_raw(size=-1)], "byte count"),
        ([_raw(file="sub/m.pth")], "bare file name"),
        ([{"name": "m"}], "lacks file, url, config"),
        ([], "no 'models' list"),
    ],
)
def test_a_broken_manifest_is_a_model_load_error(tmp_path, models, match):
    with pytest.raises(ModelLoadError, match=match):
        load_manifest(_write_manifest(tmp_path, models))


def test_an_unreadable_manifest_names_its_path(tmp_path):
    bad = tmp_path / "models.json"
    bad.write_text("{not json")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        load_manifest(bad)
    with pytest.raises(ModelLoadError, match="cannot read model manifest"):
        load_manifest(tmp_path / "absent.json")


def test_default_manifest_lives_in_configs():
    assert DEFAULT_MANIFEST == config_dir() / "models.json"


def test_the_configs_are_the_package_phar_cli_configs_mapped_onto_the_checkouts_folder():
    # pyproject.toml maps phar_cli.configs onto the top-level configs/ folder: the editable install
    # reads the checkout's one copy (a wheel carries it inside phar_cli/: tests/packaging).
    assert config_dir() == ROOT / "configs"
    assert Path(str(importlib.resources.files("phar_cli.configs"))).resolve() == ROOT / "configs"
    for sub in ("models.json", "labels/annotations.txt", "rgb/timesformer.py",
                "skeleton/posec3d.py", "audio/resnet101_audio.py", "det", "pose/rtmo-s.py"):
        assert (config_dir() / sub).exists(), sub


def test_manifest_paths_resolve_inside_the_configs_folder():
    assert shipped_path("configs/rgb/timesformer.py") == config_dir() / "rgb" / "timesformer.py"
    assert shipped_path("/abs/x.py") == Path("/abs/x.py")
    for entry in load_manifest().values():
        assert entry.config_path.is_file(), entry.name
        assert entry.config_path.is_relative_to(config_dir())
