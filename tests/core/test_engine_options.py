"""The Engine's speed options: checked up front, and recorded in the predictions only when used
(a default analysis writes the same config as before they existed)."""
from __future__ import annotations

import pytest

from phar_cli.core.engine import Engine, EngineOptions, ModelFiles
from phar_cli.errors import UsageError

from tests.conftest import LABELS, SMALL_CONFIGS


def models():
    return {name: ModelFiles(config, None, LABELS.get(name)) for name, config in SMALL_CONFIGS.items()}


@pytest.mark.parametrize("bad", [dict(det_every=0), dict(det_size=8), dict(threads=0),
                                 dict(pose_every=0), dict(det_proposals=0),
                                 dict(precision="fp8")])
def test_bad_speed_options_are_usage_errors(bad):
    with pytest.raises(UsageError):
        EngineOptions(models=models(), **bad)


def test_fp16_on_the_cpu_is_a_usage_error_when_a_model_loads():
    # not before: a Ray driver builds its Engine on the CPU for actors that have GPUs
    engine = Engine(EngineOptions(models=models(), device="cpu", precision="fp16"))
    with pytest.raises(UsageError, match="CUDA"):
        engine.model("rgb")


def test_default_options_describe_no_speed_options():
    config = Engine(EngineOptions(models=models(), device="cpu")).describe()
    assert not {"det_size", "det_every", "pose_every", "det_proposals", "precision",
                "threads"} & set(config)


def test_speed_options_that_change_scores_are_recorded():
    config = Engine(EngineOptions(models=models(), device="cpu", det_size=320, det_every=3,
                                  pose_every=2, det_proposals=300, precision="BF16")).describe()
    assert {k: config[k] for k in ("det_size", "det_every", "pose_every", "det_proposals",
                                   "precision")} == \
        {"det_size": 320, "det_every": 3, "pose_every": 2, "det_proposals": 300,
         "precision": "bf16"}
