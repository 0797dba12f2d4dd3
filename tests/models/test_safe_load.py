"""Model files are read without running code: `weights_only` with an allowlist of data types,
payloads refused (and never run), files pinned at fetch refused once they change."""
from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from phar_cli.errors import ModelLoadError
from phar_cli.models.pins import LOCK_NAME, pin, read_pins
from phar_cli.models.safe_load import read_checkpoint

from tests.conftest import LABELS, SMALL_CONFIGS, pickled_globals, run_phar


class Payload:
    """What an attacker's checkpoint holds: unpickling it creates `marker` (open for writing)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def payload_checkpoint(path: Path, marker: Path, legacy: bool = False) -> Path:
    torch.save({"meta": {"epoch": 1}, "state_dict": OrderedDict(w=torch.zeros(2)),
                "x": Payload(marker)}, str(path), _use_new_zipfile_serialization=not legacy)
    return path


@pytest.mark.parametrize("legacy", [False, True])  # torch's zip format and the legacy one
def test_a_payload_is_refused_in_one_line_and_never_runs(tmp_path, legacy):
    marker = tmp_path / "ran"
    path = payload_checkpoint(tmp_path / "evil.pth", marker, legacy)
    with pytest.raises(ModelLoadError) as err:
        read_checkpoint(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    assert "io.open" in message and "--trust-checkpoints" in message
    assert not marker.exists()


def test_the_cli_refuses_a_payload_passed_as_a_model_file(tmp_path, capsys):
    from phar_cli.synthetic.video import Scene, make_video

    marker = tmp_path / "ran"
    evil = payload_checkpoint(tmp_path / "evil.pth", marker)
    video = make_video(tmp_path / "v.mp4", size=(96, 64), segments=[Scene(3, "blue", "circle")])
    code, out, err = run_phar(["timestamps", video, "-o", tmp_path / "out.json", "--streams", "rgb",
                               "--device", "cpu", "--rgb-config", SMALL_CONFIGS["rgb"],
                               "--rgb-checkpoint", evil, "--label-maps",
                               f"rgb={LABELS['rgb']}"], capsys)
    assert code == 1 and "refused" in err and "io.open" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not marker.exists() and not (tmp_path / "out.json").exists()


def test_trusting_loads_the_old_way(tmp_path, monkeypatch, caplog):
    """The opt-in really is `weights_only=False`: here the payload runs (it only makes a file)."""
    marker = tmp_path / "ran"
    path = payload_checkpoint(tmp_path / "evil.pth", marker)
    monkeypatch.setenv("PHAR_TRUST_CHECKPOINTS", "1")
    assert "state_dict" in read_checkpoint(path)
    assert marker.exists() and "weights_only=False" in caplog.text


def test_numpy_scalars_pickled_under_numpy_1_module_paths_load(tmp_path):
    meta = {"seed": np.int64(1234), "best_score": np.float64(0.7564),
            "hist": np.arange(3, dtype=np.float32)}
    path = tmp_path / "old.pth"
    torch.save({"meta": meta, "state_dict": OrderedDict(w=torch.ones(2))}, str(path),
               _use_new_zipfile_serialization=False)  # a raw pickle stream: its names are editable
    data = path.read_bytes()
    new = b"numpy._core.multiarray\n"
    if new in data:  # written under NumPy 2: name the globals as NumPy 1 wrote them
        data = data.replace(new, b"numpy.core.multiarray\n")
        path.write_bytes(data)
    assert b"numpy.core.multiarray\nscalar" in data and b"numpy._core" not in data
    loaded = read_checkpoint(path)
    assert loaded["meta"]["seed"] == 1234 and loaded["meta"]["best_score"] == pytest.approx(0.7564)
    np.testing.assert_array_equal(loaded["meta"]["hist"], np.arange(3, dtype=np.float32))


def test_an_mmengine_message_hub_loads_and_only_its_statistics_are_looked_up(tmp_path):
    """A Runner checkpoint's message hub pickles HistoryBuffers and `getattr(HistoryBuffer,
    'min')`: that loads; a `getattr` of anything else is refused."""
    from mmengine.logging import MessageHub
    from mmengine.logging.history_buffer import HistoryBuffer

    hub = MessageHub.get_instance("phar-test-safe-load")
    hub.update_scalar("train/loss", 0.5)
    hub.update_scalar("train/loss", np.float64(0.25))
    path = tmp_path / "runner.pth"
    torch.save({"meta": {"epoch": 2}, "state_dict": OrderedDict(w=torch.ones(1)),
                "message_hub": hub.state_dict()}, str(path))
    assert {"builtins.getattr", "mmengine.logging.history_buffer.HistoryBuffer"} <= \
        pickled_globals(path)
    loaded = read_checkpoint(path)
    buffer = loaded["message_hub"]["log_scalars"]["train/loss"]
    assert isinstance(buffer, HistoryBuffer) and buffer.min() == pytest.approx(0.25)

    class Reach:
        def __reduce__(self):
            return (getattr, (HistoryBuffer, "__init__"))

    torch.save({"state_dict": {}, "x": Reach()}, str(tmp_path / "reach.pth"))
    with pytest.raises(ModelLoadError, match="refused: it holds builtins.getattr"):
        read_checkpoint(tmp_path / "reach.pth")


@pytest.mark.parametrize("content", [b"<html>404 Not Found</html>\n", b""])
def test_a_file_that_is_not_a_checkpoint_is_one_line(tmp_path, content):
    path = tmp_path / "model.pth"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError) as err:
        read_checkpoint(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_truncated_download_is_one_line(tmp_path):
    path = tmp_path / "model.pth"
    torch.save({"state_dict": OrderedDict(w=torch.arange(10000.0))}, str(path))
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(ModelLoadError, match="not a readable PyTorch checkpoint") as err:
        read_checkpoint(path)
    assert "\n" not in str(err.value)


def test_a_pinned_file_that_changed_is_refused_with_both_checksums(tmp_path):
    path = tmp_path / "model.pth"
    torch.save({"state_dict": OrderedDict(w=torch.ones(2))}, str(path))
    from phar_cli.models.pins import sha256_file

    pinned = sha256_file(path)
    pin(tmp_path, path.name, pinned)
    assert read_pins(tmp_path) == {"model.pth": pinned}
    read_checkpoint(path)  # unchanged: loads
    torch.save({"state_dict": OrderedDict(w=torch.zeros(2))}, str(path))
    os.utime(path, ns=(1, 1))  # a new mtime, whatever the clock's resolution
    with pytest.raises(ModelLoadError) as err:
        read_checkpoint(path)
    message = str(err.value)
    assert "changed since it was fetched" in message and pinned in message
    assert sha256_file(path) in message and LOCK_NAME in message


def test_a_lock_that_cannot_be_read_is_an_error(tmp_path):
    path = tmp_path / "model.pth"
    torch.save({"state_dict": OrderedDict(w=torch.ones(2))}, str(path))
    (tmp_path / LOCK_NAME).write_text("{not json")
    with pytest.raises(ModelLoadError, match=LOCK_NAME):
        read_checkpoint(path)
