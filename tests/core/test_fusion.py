"""Late fusion, checked against sums done by hand."""
import pytest

from phar_cli.core.fusion import DEFAULT_WEIGHTS, fuse, parse_weights

LABELS = ["kissing", "doggy", "blowjob", "anal"]


def test_three_streams_weighted_and_rescaled_by_the_weights_used():
    streams = {
        "rgb": [("kissing", 0.5), ("doggy", 0.3), ("blowjob", 0.2), ("anal", 0.0)],
        "skeleton": [("doggy", 0.9), ("kissing", 0.1)],
        "audio": [("anal", 0.6), ("doggy", 0.4)],
    }
    fused = dict(fuse(LABELS, streams))
    # (0.4*rgb + 0.8*skeleton + 1.0*audio) / (0.4 + 0.8 + 1.0)
    assert fused["doggy"] == pytest.approx((0.4 * 0.3 + 0.8 * 0.9 + 1.0 * 0.4) / 2.2)
    assert fused["kissing"] == pytest.approx((0.4 * 0.5 + 0.8 * 0.1) / 2.2)
    assert fused["blowjob"] == pytest.approx(0.4 * 0.2 / 2.2)
    assert fused["anal"] == pytest.approx(0.6 / 2.2)
    assert sum(fused.values()) == pytest.approx(1.0)


def test_rgb_alone_keeps_its_probabilities():
    rgb = [("kissing", 0.1), ("doggy", 0.6), ("blowjob", 0.3), ("anal", 0.0)]
    fused = fuse(LABELS, {"rgb": rgb})
    assert [label for label, _ in fused] == ["doggy", "blowjob", "kissing", "anal"]
    assert [p for _, p in fused] == pytest.approx([0.6, 0.3, 0.1, 0.0])


def test_weights_are_keyed_by_stream_name_not_position():
    streams = {"audio": [("anal", 1.0)], "rgb": [("kissing", 1.0)]}
    fused = dict(fuse(LABELS, streams, {"rgb": 1.0, "skeleton": 0.0, "audio": 3.0}))
    assert fused == pytest.approx({"anal": 0.75, "kissing": 0.25, "doggy": 0.0, "blowjob": 0.0})


def test_ties_are_kept_in_label_order_and_never_collapse():
    fused = fuse(LABELS, {"rgb": [(label, 0.25) for label in LABELS]})
    assert fused == [(label, 0.25) for label in LABELS]


def test_spellings_with_underscore_map_to_the_same_label():
    fused = dict(fuse(["scoop-up", "69"], {"rgb": [("scoop_up", 0.7), ("69", 0.3)]}))
    assert fused == pytest.approx({"scoop-up": 0.7, "69": 0.3})


def test_parse_weights_forms():
    assert parse_weights("rgb=0.5,audio=2") == {"rgb": 0.5, "skeleton": 0.8, "audio": 2.0}
    assert parse_weights("0.4 0.8 1.0") == DEFAULT_WEIGHTS
    for bad in ("rgb=-1", "rgb=x", "smell=1", "1 2", "rgb=1,2"):
        with pytest.raises(ValueError):
            parse_weights(bad)
