"""The speed options through a real analysis with the small random-weight models: detection on
every N-th pose frame at a reduced size with fewer proposals, pose on every other frame, and
bf16 autocast on the CPU."""
from __future__ import annotations

import pytest

from phar_cli.core.engine import Engine, EngineOptions, ModelFiles
from phar_cli.core.gates import GateOptions

from tests.conftest import LABELS, SMALL_CONFIGS


def engine(bundle, streams=("rgb", "skeleton", "audio"), **options) -> Engine:
    files = {name: ModelFiles(config, bundle.folder / ("rgb_gated.pth" if name == "rgb" else
                                                       f"{name}.pth"), LABELS.get(name))
             for name, config in SMALL_CONFIGS.items()}
    gates = GateOptions(pose_score_thr=0.0, correct_rate=0.0)
    return Engine(EngineOptions(models=files, streams=streams, device="cpu", gates=gates,
                                **options))


def test_the_skeleton_speed_options_together_run_the_skeleton_and_are_recorded(small_bundle,
                                                                             videos):
    analysis = engine(small_bundle, det_every=3, det_size=64, pose_every=2,
                      det_proposals=50).analyse(videos["loud9"])
    assert all("skeleton" in w.used for w in analysis.windows)
    assert all(w.measures["people"] >= 1 for w in analysis.windows)
    assert {k: analysis.config[k] for k in ("det_every", "det_size", "pose_every",
                                            "det_proposals")} == \
        {"det_every": 3, "det_size": 64, "pose_every": 2, "det_proposals": 50}
    rpn = lambda e: e.model("poses").detector.test_cfg.rpn.max_per_img  # noqa: E731
    assert (rpn(engine(small_bundle)), rpn(engine(small_bundle, det_proposals=50))) == (100, 50)
    reference = engine(small_bundle).analyse(videos["loud9"])
    assert not {"det_every", "det_size", "pose_every", "det_proposals"} & reference.config.keys()


def test_bf16_autocast_on_the_cpu_keeps_the_rgb_scores_close(small_bundle, videos):
    plain = engine(small_bundle, streams=("rgb",)).analyse(videos["loud9"])
    bf16 = engine(small_bundle, streams=("rgb",), precision="bf16").analyse(videos["loud9"])
    for a, b in zip(plain.windows, bf16.windows):
        assert a.scores[0][0] == b.scores[0][0]
        assert dict(b.scores)[a.scores[0][0]] == pytest.approx(a.scores[0][1], abs=0.02)
