"""Decoding in parallel and batching the models across windows change how fast, never what: with
fp32 on a CPU, every window's fused and per-stream scores equal the window-by-window pipeline's
(one decoder, one window per recognizer batch, one frame per detector/pose forward) within 1e-4,
with the same top-1, what the gates measured and the streams that ran. The refinement's extra
windows take the same path."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from phar_cli.core.engine import Engine, EngineOptions, ModelFiles
from phar_cli.core.gates import GateOptions
from phar_cli.synthetic.video import Scene, make_video

from tests.conftest import LABELS, ROOT, SMALL_CONFIGS

ONE_BY_ONE = {"decode_workers": 1, "batch_size": 1, "frame_batch": 1, "prefetch": 0}
BATCHED = {"decode_workers": 3, "batch_size": 8, "frame_batch": 64}


def assert_same_answers(a, b, tol: float = 1e-4) -> None:
    assert [w.span for w in a.windows + a.extra] == [w.span for w in b.windows + b.extra]
    for x, y in zip(a.windows + a.extra, b.windows + b.extra):
        assert x.used == y.used and x.top[0] == y.top[0], x.span
        assert x.measures.keys() == y.measures.keys()
        for key, value in x.measures.items():
            assert value == pytest.approx(y.measures[key], abs=tol), (x.span, key)
        pairs = [(x.scores, y.scores)] + [(x.streams[s], y.streams[s]) for s in x.streams]
        assert x.streams.keys() == y.streams.keys()
        for xs, ys in pairs:
            theirs = dict(ys)
            assert max(abs(p - theirs[label]) for label, p in xs) <= tol, x.span


def small_engine(bundle, **options) -> Engine:
    files = {name: ModelFiles(config, bundle.folder / ("rgb_gated.pth" if name == "rgb" else
                                                       f"{name}.pth"), LABELS.get(name))
             for name, config in SMALL_CONFIGS.items()}
    return Engine(EngineOptions(models=files, device="cpu", subclip_len=2.0,
                                gates=GateOptions(pose_score_thr=0.0, correct_rate=0.0),
                                **options))


@pytest.fixture(scope="module")
def figure_video(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("batched")
    return make_video(folder / "figure.mp4", size=(160, 120), segments=[
        Scene(3, "blue", "circle", 1000, -12, figure="wave"),
        Scene(4, "red", "left-right", 500, -12, figure="squat")])


@pytest.mark.parametrize("speed", [{}, {"det_every": 2, "pose_every": 2}],
                         ids=["every-frame", "carried"])
def test_small_models_answer_the_same_batched_and_in_parallel(small_bundle, figure_video, speed):
    slow = small_engine(small_bundle, **ONE_BY_ONE, **speed).analyse(figure_video)
    fast = small_engine(small_bundle, **BATCHED, **speed).analyse(figure_video)
    assert len(slow.windows) == 3 and all(len(w.used) == 3 for w in slow.windows)
    assert slow.extra  # the refinement's windows across the change at 3 s
    assert_same_answers(slow, fast)


def test_a_one_step_front_end_answers_the_same_batched(small_bundle, figure_video):
    """The synthetic marker finder (no forward apart, so called per window) and every-other-
    frame finds: grouped windows keep their own tracks."""
    slow = small_engine(small_bundle, pose_backend="markers", pose_every=2,
                        **ONE_BY_ONE).analyse(figure_video)
    fast = small_engine(small_bundle, pose_backend="markers", pose_every=2,
                        **BATCHED).analyse(figure_video)
    assert any(w.measures["people"] for w in slow.windows)
    assert_same_answers(slow, fast)


def test_seed_sized_models_of_the_fast_profile_answer_the_same_batched(tmp_path, figure_video):
    """TimeSformer-B, PoseC3D R50, ResNet101 audio and RTMO-s at 320 px with random weights,
    biased so every stream runs (scripts/bench_pipeline.py's), on two 3.5 s windows."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_pipeline import random_bundle

    files = random_bundle(tmp_path / "models", "seed", people=2, pose_backends=("rtmo-s",))
    gates = GateOptions(pose_score_thr=0.0, correct_rate=0.0, loudness_thr=-1000.0)

    def analyse(**options):
        engine = Engine(EngineOptions(models=files, device="cpu", subclip_len=3.5, refine=False,
                                      gates=gates, pose_backend="rtmo-s", det_size=320,
                                      skeleton_clips=1, rgb_views=1, pose_every=2, **options))
        return engine.analyse(figure_video)

    slow, fast = analyse(**ONE_BY_ONE), analyse(**BATCHED)
    assert len(slow.windows) == 2 and all(len(w.used) == 3 for w in slow.windows)
    assert_same_answers(slow, fast)
