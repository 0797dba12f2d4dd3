"""Late fusion, checked against sums done by hand."""
import numpy as np
import pytest

from phar_cli.core.fusion import DEFAULT_WEIGHTS, fuse, parse_weights

LABELS = ["kissing", "doggy", "blowjob", "anal"]


def test_seed_rule_three_streams_weighted_and_rescaled_by_the_weights_used():
    streams = {
        "rgb": [("kissing", 0.5), ("doggy", 0.3), ("blowjob", 0.2), ("anal", 0.0)],
        "skeleton": [("doggy", 0.9), ("kissing", 0.1)],
        "audio": [("anal", 0.6), ("doggy", 0.4)],
    }
    fused = dict(fuse(LABELS, streams, rule="seed"))
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
    fused = dict(fuse(LABELS, streams, {"rgb": 1.0, "skeleton": 0.0, "audio": 3.0}, rule="seed"))
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


def test_known_rule_averages_each_label_over_the_streams_that_know_it():
    streams = {
        "rgb": [("kissing", 0.5), ("doggy", 0.3), ("blowjob", 0.2), ("anal", 0.0)],
        "skeleton": [("doggy", 0.9), ("kissing", 0.1)],
        "audio": [("anal", 0.6), ("doggy", 0.4)],
    }
    fused = dict(fuse(LABELS, streams, rule="known"))
    assert fused["doggy"] == pytest.approx((0.4 * 0.3 + 0.8 * 0.9 + 1.0 * 0.4) / 2.2)  # all three
    assert fused["kissing"] == pytest.approx((0.4 * 0.5 + 0.8 * 0.1) / 1.2)  # rgb + skeleton
    assert fused["blowjob"] == pytest.approx(0.2)                            # rgb alone
    assert fused["anal"] == pytest.approx((0.4 * 0.0 + 1.0 * 0.6) / 1.4)     # rgb + audio


def test_the_seed_example_of_dilution_is_gone():
    """The issue's numbers: alpha's RGB 0.49 and audio 0.92, skeleton (which has no alpha) used."""
    streams = {"rgb": [("alpha", 0.49), ("gamma", 0.51)], "audio": [("alpha", 0.92), ("beta", 0.08)],
               "skeleton": [("gamma", 0.6), ("delta", 0.4)]}
    labels = ["alpha", "beta", "gamma", "delta"]
    weights = {"rgb": 0.4, "skeleton": 0.8, "audio": 1.0}
    assert dict(fuse(labels, streams, weights, rule="seed"))["alpha"] == pytest.approx(
        (0.4 * 0.49 + 0.92) / 2.2)  # 0.51: pulled down by the skeleton's weight
    assert dict(fuse(labels, streams, weights, rule="known"))["alpha"] == pytest.approx(
        (0.4 * 0.49 + 0.92) / 1.4)  # 0.80


def _random_case(rng, n_labels=6):
    labels = [f"l{i}" for i in range(n_labels)]
    streams = {}
    for name in ("rgb", "skeleton", "audio"):
        own = sorted(rng.choice(n_labels, size=rng.integers(1, n_labels + 1), replace=False))
        p = rng.dirichlet(np.ones(len(own)))
        streams[name] = [(labels[i], float(x)) for i, x in zip(own, p)]
    weights = {name: float(rng.uniform(0.05, 2.0)) for name in streams}
    temperatures = ({name: float(rng.uniform(0.3, 3.0)) for name in streams}
                    if rng.random() < 0.5 else None)
    return labels, streams, weights, temperatures


@pytest.mark.parametrize("seed", range(200))
def test_a_stream_that_does_not_know_a_label_never_lowers_it(seed):
    """Property, over random score vectors, label maps and weights (and stream calibrations):
    adding a stream leaves every label it does not know exactly where it was."""
    rng = np.random.default_rng(seed)
    labels, streams, weights, temperatures = _random_case(rng)
    added = str(rng.choice(list(streams)))
    without = {k: v for k, v in streams.items() if k != added}
    before = dict(fuse(labels, without, weights, rule="known", temperatures=temperatures))
    after = dict(fuse(labels, streams, weights, rule="known", temperatures=temperatures))
    unknown = set(labels) - {label for label, _ in streams[added]}
    for label in unknown:
        assert after[label] == pytest.approx(before[label], abs=1e-12)


def test_temperature_keeps_the_order_and_sharpens_or_softens():
    rgb = [("kissing", 0.6), ("doggy", 0.3), ("blowjob", 0.1)]
    labels = ["kissing", "doggy", "blowjob"]
    sharp = fuse(labels, {"rgb": rgb}, temperatures={"rgb": 0.5})
    soft = fuse(labels, {"rgb": rgb}, temperatures={"rgb": 2.0})
    assert [lab for lab, _ in sharp] == [lab for lab, _ in soft] == labels
    # softmax(log p / T): p^(1/T) normalised
    assert dict(sharp)["kissing"] == pytest.approx(0.36 / (0.36 + 0.09 + 0.01))
    assert dict(soft)["kissing"] == pytest.approx(0.6 ** 0.5 / sum(x ** 0.5 for x in (0.6, 0.3, 0.1)))
    fused_t = dict(fuse(labels, {"rgb": rgb}, temperatures={"fused": 1.0}))
    assert fused_t == pytest.approx(dict(rgb))  # T = 1 on normalised scores changes nothing


LABELS4 = ["alpha", "beta", "gamma", "delta"]


def test_nested_rule_keeps_a_partial_stream_within_its_labels():
    """The skeleton map knows gamma and delta only: on a window the RGB and audio streams call
    beta, its "surely gamma, not delta" must not outvote them (it does under "known")."""
    streams = {"rgb": [("alpha", 0.50), ("beta", 0.41), ("gamma", 0.05), ("delta", 0.04)],
               "skeleton": [("gamma", 0.997), ("delta", 0.003)],
               "audio": [("beta", 0.75), ("alpha", 0.25)]}
    assert fuse(LABELS4, streams, rule="known")[0][0] == "gamma"
    nested = dict(fuse(LABELS4, streams, rule="nested"))
    assert max(nested, key=nested.get) == "beta"
    assert nested["gamma"] == pytest.approx((0.4 * 0.05 + 0.8 * 0.997 * 0.09) / 1.2)
    # where the RGB stream gives the skeleton's labels most of its mass, nested is near known
    gamma = {"rgb": [("gamma", 0.6), ("delta", 0.3), ("alpha", 0.05), ("beta", 0.05)],
             "skeleton": [("gamma", 0.9), ("delta", 0.1)]}
    assert fuse(LABELS4, gamma, rule="nested")[0][0] == fuse(LABELS4, gamma, rule="known")[0][0]


def test_nested_rule_without_a_full_stream_is_the_known_rule():
    streams = {"skeleton": [("gamma", 0.7), ("delta", 0.3)], "audio": [("beta", 0.6), ("alpha", 0.4)]}
    assert fuse(LABELS4, streams, rule="nested") == fuse(LABELS4, streams, rule="known")
