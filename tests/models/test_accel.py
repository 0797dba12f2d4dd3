"""Speed options of the model adapters that need no model: precision checks, autocast, pinning,
the detector's reduced input size."""
from __future__ import annotations

import pytest

from phar_cli.errors import UsageError
from phar_cli.models.accel import autocast, check_precision, pin
from phar_cli.models.poses import det_batch_size, set_det_proposals, with_det_size


def test_precisions_are_checked_against_the_device():
    assert check_precision("FP32", "cpu") == "fp32"
    assert check_precision("bf16", "cpu") == "bf16"
    assert check_precision("fp16", "cuda:0") == "fp16"
    with pytest.raises(UsageError, match="CUDA"):
        check_precision("fp16", "cpu")
    with pytest.raises(UsageError, match="fp8"):
        check_precision("fp8", "cpu")


def test_bf16_autocast_runs_a_cpu_layer_in_bf16_and_fp32_changes_nothing():
    import torch

    layer, x = torch.nn.Linear(8, 4), torch.randn(2, 8)
    with autocast("bf16", "cpu"):
        assert layer(x).dtype == torch.bfloat16
    with autocast("fp32", "cpu"):
        assert layer(x).dtype == torch.float32


def test_pinning_is_a_no_op_off_cuda():
    import torch

    data = {"inputs": torch.zeros(3), "data_samples": object()}
    assert pin(data, "cpu") is data


def test_det_size_scales_the_configs_resize_keeping_its_aspect():
    pipeline = [{"type": "mmdet.LoadImageFromNDArray"},
                {"type": "Resize", "scale": (1333, 800), "keep_ratio": True},
                {"type": "PackDetInputs"}]
    out = with_det_size(pipeline, 480)
    assert out[1] == {"type": "Resize", "scale": (800, 480), "keep_ratio": True}
    assert pipeline[1]["scale"] == (1333, 800)  # the config's own list is left alone
    assert with_det_size([{"type": "Resize", "scale": (320, 320)}], 240)[0]["scale"] == (240, 240)
    with pytest.raises(UsageError):
        with_det_size(pipeline, 16)


def test_autocast_features_runs_only_the_feature_extractor_at_low_precision():
    import torch

    from phar_cli.models.accel import autocast_features

    class Detector(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = torch.nn.Linear(8, 8)
            self.seen = None

        def extract_feat(self, x):
            out = self.backbone(x)
            self.seen = out.dtype
            return (out,)

    model = Detector()
    autocast_features(model, "bf16", "cpu")
    (feats,) = model.extract_feat(torch.randn(2, 8))
    assert model.seen == torch.bfloat16 and feats.dtype == torch.float32
    plain = Detector()
    autocast_features(plain, "fp32", "cpu")
    assert plain.extract_feat(torch.randn(2, 8))[0].dtype == torch.float32 and plain.seen == torch.float32


def test_the_detector_runs_large_inputs_one_frame_at_a_time_on_a_cpu_only():
    seed = [{"type": "mmdet.LoadImageFromNDArray"}, {"type": "Resize", "scale": (1333, 800)}]
    assert det_batch_size(seed, 16, "cpu") == 1
    assert det_batch_size(with_det_size(seed, 480), 16, "cpu") == 1
    assert det_batch_size(seed, 16, "cuda:0") == 16
    assert det_batch_size([{"type": "Resize", "scale": (320, 320)}], 16, "cpu") == 16


def test_det_proposals_cuts_the_rpn_output_and_refuses_a_detector_without_one():
    from mmengine.config import Config

    cfg = Config(dict(model=dict(test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=1000),
                                               rcnn=dict(max_per_img=100)))))
    set_det_proposals(cfg, 300)
    assert cfg.model.test_cfg.rpn == {"nms_pre": 1000, "max_per_img": 300}
    with pytest.raises(UsageError, match="^det_proposals: "):
        set_det_proposals(Config(dict(model=dict(test_cfg=dict(score_thr=0.3)))), 300)
