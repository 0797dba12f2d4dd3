"""compat's workaround 5: transformers 5 installed beside mmaction2 1.2.0 (as on the lent GPU
machine) must not take `import mmaction.models` down with mmaction's multimodal (VindLU) models.

A fake transformers stands in for the real one (installed or not): a package and its dist-info
that say 5.0.0 (mmaction's own test, `transformers>=4.28.0`, then imports VindLU) and lack every
name VindLU imports from it, as transformers 5 lacks some of them. Each case runs in a subprocess
with the fake first on PYTHONPATH, so this process's imports stay clean. The same script run
without the workaround (`--unpatched`: the subprocess replaces `_patch_multimodal` with a no-op)
shows that the fake does reproduce the failure.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# What phar's configs build: configs/rgb, skeleton and audio (mmaction), det and pose.
PHAR_TYPES = ["Recognizer3D", "TimeSformer", "ResNet3dSlowOnly", "RecognizerAudio",
              "ResNetAudio", "mmdet.FasterRCNN", "mmpose.TopdownPoseEstimator",
              "mmpose.BottomupPoseEstimator"]

SCRIPT = """
import json, sys
import phar_cli.models.compat as compat
if "--unpatched" in sys.argv:
    compat._patch_multimodal = lambda: None
compat.import_openmmlab()
import mmaction.models  # noqa: F401
import transformers
from mmaction.registry import MODELS
multimodal = sys.modules["mmaction.models.multimodal"]
print(json.dumps({"transformers": transformers.__file__,
                  "placeholder": getattr(multimodal, "__phar_placeholder__", False),
                  "reason": getattr(multimodal, "reason", ""),
                  "registered": [n for n in sys.argv[1].split(",") if MODELS.get(n) is not None]}))
"""


def fake_transformers(site: Path, version: str) -> Path:
    (site / "transformers").mkdir(parents=True)
    (site / "transformers" / "__init__.py").write_text(f'__version__ = "{version}"\n')
    info = site / f"transformers-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: transformers\nVersion: {version}\n")
    return site


@pytest.fixture(scope="module")
def transformers_5(tmp_path_factory) -> Path:
    return fake_transformers(tmp_path_factory.mktemp("fake_site"), "5.0.0")


def run(site: Path, code: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(site), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.timeout(330)
def test_mmaction_imports_beside_transformers_5(transformers_5):
    done = run(transformers_5, SCRIPT, ",".join(PHAR_TYPES))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["transformers"].startswith(str(transformers_5))  # the fake was the one seen
    assert result["placeholder"] is True
    assert "transformers 5.0.0" in result["reason"]
    assert result["registered"] == PHAR_TYPES


@pytest.mark.timeout(330)
def test_without_the_workaround_mmaction_fails(transformers_5):
    done = run(transformers_5, SCRIPT, ",".join(PHAR_TYPES), "--unpatched")
    assert done.returncode != 0
    assert "the OpenMMLab stack is not installed correctly" in done.stderr
    assert "transformers" in done.stderr.strip().splitlines()[-1]


@pytest.mark.timeout(120)
def test_left_alone_below_4_28(tmp_path):
    # mmaction skips VindLU itself below 4.28 (and registers its own placeholders): nothing to do.
    code = ("import sys, phar_cli.models.compat as c; c._patch_multimodal(); "
            "print('mmaction.models.multimodal' in sys.modules)")
    done = run(fake_transformers(tmp_path, "4.20.0"), code)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["False"]
