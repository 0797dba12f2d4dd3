"""`--profile fast` and `--pose-model`: what the profile sets, that what is given wins, that it
is said and recorded, and that RTMO's files come from --pose-config/--pose-checkpoint."""
from __future__ import annotations

import orjson

from phar_cli.models.accel import fast_bf16
from tests.conftest import run_phar
from tests.models.test_rtmo import rtmo_files, steer  # noqa: F401 - the fixture


def args(small_bundle, rtmo, *extra):
    out = small_bundle.args()
    for kind in ("config", "checkpoint"):
        out[out.index(f"--pose-{kind}") + 1] = str(getattr(rtmo["rtmo-s"], kind))
    return [*out, "--pose-score-thr", "0", "--correct-rate", "0", *extra]


def test_the_fast_profile_runs_rtmo_one_clip_one_view(small_bundle, rtmo_files, videos,  # noqa: F811
                                                      tmp_path, capsys, caplog):
    out = tmp_path / "fast.json"
    code, _, err = run_phar(["timestamps", videos["loud9"], "-o", out, "--profile", "fast",
                             "--no-refine", *args(small_bundle, rtmo_files)], capsys)
    assert code == 0, err
    assert "profile fast: rtmo-s poses at 320 px" in err
    assert "trained on mmpose poses, and is given rtmo-s poses" in caplog.text  # a warning
    config = orjson.loads(out.read_bytes())["config"]
    assert config["profile"] == "fast" and config["pose_backend"] == "rtmo-s"
    assert (config["skeleton_clips"], config["rgb_views"], config["pose_every"]) == (1, 1, 2)
    # recorded only when it is not the reference fp32 (a CPU without bf16 keeps fp32)
    assert config.get("precision", "fp32") == ("bf16" if fast_bf16("cpu") else "fp32")
    assert set(config["models"]) == {"rgb", "skeleton", "audio", "rtmo-s"}


def test_what_is_given_wins_over_the_profile(small_bundle, rtmo_files, videos, tmp_path,  # noqa: F811
                                             capsys):
    out = tmp_path / "given.json"
    code, _, err = run_phar(["-q", "timestamps", videos["loud9"], "-o", out, "--profile", "fast",
                             "--pose-every", "1", "--rgb-views", "3", "--pose-model",
                             "faster-rcnn+hrnet", "--no-refine", *small_bundle.args()], capsys)
    assert code == 0, err
    config = orjson.loads(out.read_bytes())["config"]
    assert config["pose_backend"] == "mmpose" and "pose_every" not in config
    assert config["rgb_views"] == 3 and config["skeleton_clips"] == 1


def test_a_pose_model_of_its_own_is_named_and_checked(small_bundle, videos, tmp_path, capsys):
    code, _, err = run_phar(["timestamps", videos["loud9"], "-o", tmp_path / "x.json",
                             "--pose-model", "openpose", *small_bundle.args()], capsys)
    assert code == 2 and "--pose-model 'openpose': use" in err
