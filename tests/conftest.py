"""Shared by all tests: a small model bundle of the seed's architectures with random weights,
an isolated $PHAR_HOME, and the real console entry point run in-process.

The checkpoints are written in MMAction2/MMDet/MMPose format by the test (no download).
`PHAR_TEST_DEVICE=cuda` runs the tests that take a device (the `test_device` fixture, the CLI
options of `Bundle.args`) on a GPU (scripts/bench_gpu.sh); no test needs one. Two RGB
heads are biased so the gates can be steered: `rgb_gated` puts 'doggy' first (a skeleton label in
the top 3 and an audio label in the top 2), `rgb_plain` puts three labels first that neither the
skeleton nor the audio model knows. The detector's 'person' logit is raised so random weights
still find people.
"""
from __future__ import annotations

import os
import pickletools
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL_CONFIGS = {
    "rgb": ROOT / "configs/rgb/timesformer_small.py",
    "skeleton": ROOT / "configs/skeleton/posec3d_small.py",
    "audio": ROOT / "configs/audio/resnet_audio_small.py",
    "det": ROOT / "configs/det/faster_rcnn_small.py",
    "pose": ROOT / "configs/pose/hrnet_small.py",
}
TEST_DEVICE = os.environ.get("PHAR_TEST_DEVICE", "cpu")
LABELS = {
    "rgb": ROOT / "configs/labels/annotations.txt",
    "skeleton": ROOT / "configs/labels/annotations_pose.txt",
    "audio": ROOT / "configs/labels/annotations_audio.txt",
}


# Ordinary real footage, fetched from Debian packages by scripts/fetch_footage.sh (test.sh runs it).
FOOTAGE = Path(os.environ.get("PHAR_FOOTAGE") or
               Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "phar/footage")
FOOTAGE_PACKAGES = {"vtest.avi": "opencv-doc", "diver.mov": "pd-extendedview",
                    "movie.avi": "kphotoalbum"}


def footage(name: str) -> Path:
    """A clip of ordinary real footage (the test is skipped, saying why, if it is missing)."""
    path = FOOTAGE / name
    if not path.is_file():
        pytest.skip(f"{path}: not fetched (scripts/fetch_footage.sh takes it from Debian's "
                    f"{FOOTAGE_PACKAGES[name]} package)")
    return path


@dataclass
class Bundle:
    folder: Path

    def args(self, rgb: str = "rgb_gated", content: bool | None = False) -> list[str]:
        """CLI options pointing every model at the small configs and this bundle's weights.
        The label maps are the prototype's, without a background class, so the content stream
        would run by default and call the abstract test videos content-free (background):
        tests of the action models turn it off; `content=None` leaves phar's default."""
        out = ["--device", TEST_DEVICE]
        if content is not None:
            out.append("--content" if content else "--no-content")
        for name, config in SMALL_CONFIGS.items():
            ckpt = self.folder / (f"{rgb}.pth" if name == "rgb" else f"{name}.pth")
            out += [f"--{name}-config", str(config), f"--{name}-checkpoint", str(ckpt)]
        return out


def _save(model, path: Path) -> None:
    import torch

    torch.save({"meta": {"note": "random weights for tests"}, "state_dict": model.state_dict()}, path)


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory) -> Bundle:
    import torch

    from phar_cli.core.labels import read_label_map
    from phar_cli.models.poses import PoseEstimator
    from phar_cli.models.recognizer import Recognizer

    folder = tmp_path_factory.mktemp("bundle")
    torch.manual_seed(0)
    labels = {s: read_label_map(p) for s, p in LABELS.items()}
    rgb = Recognizer("rgb", SMALL_CONFIGS["rgb"], None, labels["rgb"], "cpu")
    bias = rgb.model.cls_head.fc_cls.bias
    with torch.no_grad():
        bias.zero_()
        bias[labels["rgb"].index("doggy")] = 30.0
        bias[labels["rgb"].index("kissing")] = 20.0
        _save(rgb.model, folder / "rgb_gated.pth")
        bias.zero_()
        for rank, label in enumerate(("fondling", "handjob", "fingering")):
            bias[labels["rgb"].index(label)] = 30.0 - 10 * rank
        _save(rgb.model, folder / "rgb_plain.pth")
    for stream in ("skeleton", "audio"):
        _save(Recognizer(stream, SMALL_CONFIGS[stream], None, labels[stream], "cpu").model,
              folder / f"{stream}.pth")
    poses = PoseEstimator(SMALL_CONFIGS["det"], None, SMALL_CONFIGS["pose"], None, "cpu")
    with torch.no_grad():
        poses.detector.roi_head.bbox_head.fc_cls.bias[0] = 12.0  # 'person'
    _save(poses.detector, folder / "det.pth")
    _save(poses.pose_model, folder / "pose.pth")
    return Bundle(folder)


@pytest.fixture(scope="session")
def test_device() -> str:
    """Where tests that take a device run: $PHAR_TEST_DEVICE, default the CPU."""
    return TEST_DEVICE


@pytest.fixture
def isolated_home(tmp_path, monkeypatch) -> Path:
    """An empty $PHAR_HOME, so nothing outside the test is found."""
    home = tmp_path / "phar-home"
    monkeypatch.setenv("PHAR_HOME", str(home))
    return home


def run_phar(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run the real console entry point in-process; (exit code, stdout, stderr)."""
    from phar_cli.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def pickled_globals(path: Path) -> set[str]:
    """The globals a (zip-format) checkpoint's pickle names, read without unpickling it."""
    with zipfile.ZipFile(path) as archive:
        data = archive.read(next(n for n in archive.namelist() if n.endswith("/data.pkl")))
    found = set()
    for opcode, arg, _ in pickletools.genops(data):
        if opcode.name == "GLOBAL":
            found.add(str(arg).replace(" ", ".").replace("__builtin__.", "builtins."))
    return found
