"""phar loads the seed's checkpoints as they were written: MMAction2 0.x / MMDet 2.x / MMPose 0.x.

Each test builds one of phar's models (the `*_small.py` configs: same parameter names as the
seed-sized ones, checked below), writes a checkpoint the way that era wrote it (mmcv 1.x layout,
old key names spelled from the 0.x/2.x sources, numpy scalars in meta, a config text, an
optimizer, legacy serialization or 'module.' prefixes) and loads it with `load_weights` into a
freshly built model: nothing missing, nothing unexpected, every tensor as saved.
"""
from __future__ import annotations

import re
import time
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch

from phar_cli.errors import ModelLoadError
from phar_cli.models.checkpoint import convert_legacy, load_weights
from phar_cli.models.compat import import_openmmlab

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"

# family: (registry scope, small config, seed-sized config)
MODELS = {
    "rgb": ("mmaction", "rgb/timesformer_small.py", "rgb/timesformer.py"),
    "skeleton": ("mmaction", "skeleton/posec3d_small.py", "skeleton/posec3d.py"),
    "audio": ("mmaction", "audio/resnet_audio_small.py", "audio/resnet101_audio.py"),
    "det": ("mmdet", "det/faster_rcnn_small.py", "det/faster_rcnn_r50_fpn_2x_coco.py"),
    "pose": ("mmpose", "pose/hrnet_small.py", "pose/hrnet_w32_coco_256x192.py"),
}

COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush")


# --- old-era key names, written from the 0.x/2.x sources (independent of phar's converter) ------

def old_key_mmaction0x(key: str) -> str:
    """MMAction2 0.x named every parameter of Recognizer3D/AudioRecognizer, TimeSformer (with
    mmcv 1.x BaseTransformerLayer/FFN), ResNet3dSlowOnly, ResNetAudio (ConvAudio), TimeSformerHead,
    I3DHead and AudioTSNHead exactly as 1.x does."""
    return key


def old_key_mmdet2x(key: str) -> str:
    """MMDet 2.x FasterRCNN (ResNet, FPN, RPNHead, Shared2FCBBoxHead) names = 3.x names."""
    return key


def old_key_mmpose0x(key: str, num_conv_layers: int = 0) -> str:
    """MMPose 0.x TopDown (detectors/top_down.py) called its head `keypoint_head`;
    TopdownHeatmapSimpleHead put intermediate convs and the last conv in one `final_layer`
    Sequential([conv, BN, ReLU] * n + [conv]) (heads/topdown_heatmap_simple_head.py)."""
    if not key.startswith("head."):
        return key
    rest = key[len("head."):]
    if rest.startswith("conv_layers."):
        rest = "final_layer." + rest[len("conv_layers."):]
    elif rest.startswith("final_layer.") and num_conv_layers:
        rest = f"final_layer.{3 * num_conv_layers}." + rest[len("final_layer."):]
    return "keypoint_head." + rest


# Keys that must appear verbatim in the old files, spelled out from the old sources.
OLD_ANCHOR_KEYS = {
    "rgb": [
        "backbone.patch_embed.projection.weight", "backbone.cls_token", "backbone.pos_embed",
        "backbone.time_embed", "backbone.norm.weight",
        "backbone.transformer_layers.layers.1.attentions.0.norm.weight",
        "backbone.transformer_layers.layers.1.attentions.0.attn.in_proj_weight",
        "backbone.transformer_layers.layers.1.attentions.0.attn.out_proj.bias",
        "backbone.transformer_layers.layers.1.attentions.0.temporal_fc.weight",
        "backbone.transformer_layers.layers.1.attentions.1.attn.in_proj_bias",
        "backbone.transformer_layers.layers.1.ffns.0.layers.0.0.weight",
        "backbone.transformer_layers.layers.1.ffns.0.layers.1.bias",
        "backbone.transformer_layers.layers.1.ffns.0.norm.bias",
        "cls_head.fc_cls.weight", "cls_head.fc_cls.bias",
    ],
    "skeleton": [  # written from a DataParallel: every key has 'module.'
        "module.backbone.conv1.conv.weight", "module.backbone.conv1.bn.running_mean",
        "module.backbone.layer1.0.downsample.conv.weight",
        "module.backbone.layer3.0.conv2.bn.num_batches_tracked",
        "module.backbone.layer3.0.conv3.bn.weight", "module.cls_head.fc_cls.weight",
    ],
    "audio": [
        "backbone.conv1.conv.conv_1.conv.weight", "backbone.conv1.conv.conv_1.bn.running_var",
        "backbone.conv1.conv.conv_2.conv.weight", "backbone.conv1.bn.weight",
        "backbone.layer1.0.conv2.conv.conv_2.bn.bias", "backbone.layer3.0.conv2.conv.weight",
        "backbone.layer2.0.downsample.bn.running_mean", "cls_head.fc_cls.weight",
    ],
    "det": [
        "backbone.conv1.weight", "backbone.bn1.running_var", "backbone.layer2.0.downsample.0.weight",
        "backbone.layer2.0.downsample.1.bias", "neck.lateral_convs.0.conv.weight",
        "neck.fpn_convs.3.conv.bias", "rpn_head.rpn_conv.weight", "rpn_head.rpn_cls.weight",
        "rpn_head.rpn_reg.bias", "roi_head.bbox_head.shared_fcs.1.weight",
        "roi_head.bbox_head.fc_cls.weight", "roi_head.bbox_head.fc_reg.bias",
    ],
    "pose": [
        "backbone.conv1.weight", "backbone.bn2.running_mean", "backbone.layer1.0.conv3.weight",
        "backbone.transition1.1.0.0.weight", "backbone.stage3.0.fuse_layers.0.1.1.running_var",
        "keypoint_head.final_layer.weight", "keypoint_head.final_layer.bias",
    ],
}


# --- helpers -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stack() -> None:
    import_openmmlab()


def build(family: str, config: str | None = None, num_classes: int | None = None,
          head: dict[str, Any] | None = None) -> torch.nn.Module:
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    scope, small, _ = MODELS[family]
    cfg = Config.fromfile(str(CONFIGS / (config or small)))
    if num_classes is not None:
        cfg.model.cls_head.num_classes = num_classes
    if head:
        cfg.model.head.update(head)
    registry = {"mmaction": "mmaction.registry", "mmdet": "mmdet.registry",
                "mmpose": "mmpose.registry"}[scope]
    models = __import__(registry, fromlist=["MODELS"]).MODELS
    with DefaultScope.overwrite_default_scope(scope):
        return models.build(cfg.model)


def random_weights(model: torch.nn.Module, seed: int) -> "OrderedDict[str, torch.Tensor]":
    """Values no freshly initialised model has, so a loaded tensor proves it came from the file."""
    gen = torch.Generator().manual_seed(seed)
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, value in model.state_dict().items():
        if value.is_floating_point():
            out[key] = torch.randn(value.shape, generator=gen, dtype=value.dtype)
        else:
            out[key] = torch.randint(1, 1000, value.shape, generator=gen, dtype=value.dtype)
    return out


def mmcv1_meta(config_text: str, **extra: Any) -> dict[str, Any]:
    """`meta` as mmcv 1.x's Runner/EvalHook wrote it (numpy scalars included)."""
    meta = {
        "env_info": "sys.platform: linux\nPython: 3.8.12\nCUDA available: True\n"
                    "PyTorch: 1.10.0\nMMCV: 1.4.0\nMMAction2: 0.20.0+",
        "seed": np.int64(1234),
        "config": config_text,
        "exp_name": "train.py",
        "hook_msgs": {"last_ckpt": "work_dir/epoch_25.pth", "best_score": np.float64(0.7564),
                      "best_ckpt": "work_dir/best_top1_acc_epoch_20.pth"},
        "epoch": 25,
        "iter": np.int64(65450),
        "mmcv_version": "1.4.0",
        "time": "Tue Dec 14 10:11:12 2021",
    }
    meta.update(extra)
    return meta


def sgd_state(weights: "OrderedDict[str, torch.Tensor]") -> dict[str, Any]:
    """An `optimizer.state_dict()` of that era (SGD with momentum buffers)."""
    params = [k for k, v in weights.items() if v.is_floating_point()]
    return {"state": {i: {"momentum_buffer": torch.zeros_like(weights[k])}
                      for i, k in enumerate(params[:3])},
            "param_groups": [{"lr": 0.0015625, "momentum": 0.9, "dampening": 0,
                              "weight_decay": 0.0001, "nesterov": True,
                              "params": list(range(len(params)))}]}


def write_old(path: Path, state: "OrderedDict[str, torch.Tensor]", meta: dict[str, Any],
              optimizer: dict[str, Any] | None = None, legacy: bool = False) -> Path:
    checkpoint: dict[str, Any] = {"meta": meta, "state_dict": state}
    if optimizer is not None:
        checkpoint["optimizer"] = optimizer
    torch.save(checkpoint, str(path), _use_new_zipfile_serialization=not legacy)
    return path


def load_and_check(model: torch.nn.Module, path: Path, expected: "OrderedDict[str, torch.Tensor]",
                   what: str) -> dict[str, Any]:
    """`load_weights` into `model`; no missing/unexpected key; every tensor as saved."""
    results = []
    original = model.load_state_dict

    def spy(*args: Any, **kwargs: Any) -> Any:
        results.append(original(*args, **kwargs))
        return results[-1]

    model.load_state_dict = spy  # type: ignore[method-assign]
    meta = load_weights(model, path, what=what)
    assert len(results) == 1
    assert results[0].missing_keys == []
    assert results[0].unexpected_keys == []
    loaded = model.state_dict()
    assert set(loaded) == set(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key
    return meta


def old_state(model_weights: "OrderedDict[str, torch.Tensor]",
              old_key: Callable[[str], str], prefix: str = "") -> "OrderedDict[str, torch.Tensor]":
    return OrderedDict((prefix + old_key(k), v) for k, v in model_weights.items())


# --- one test per seed checkpoint --------------------------------------------------------------------

def test_timesformer_0x_checkpoint_loads(stack, tmp_path):
    """timeSformer.pth: mmaction2 0.x training save with optimizer and numpy scalars in meta."""
    weights = random_weights(build("rgb"), seed=1)
    state = old_state(weights, old_key_mmaction0x)
    assert set(OLD_ANCHOR_KEYS["rgb"]) <= set(state)
    config_text = ("model = dict(type='Recognizer3D', backbone=dict(type='TimeSformer', "
                   "num_frames=16, img_size=224, patch_size=16, embed_dims=768, dropout_ratio=0.2,"
                   " attention_type='divided_space_time', norm_cfg=dict(type='LN', eps=1e-6)), "
                   "cls_head=dict(type='TimeSformerHead', num_classes=17, in_channels=768))\n")
    path = write_old(tmp_path / "timeSformer.pth", state, mmcv1_meta(config_text),
                     optimizer=sgd_state(weights))
    assert zipfile.is_zipfile(path)
    meta = load_and_check(build("rgb"), path, weights, "rgb")
    assert meta["config"] == config_text
    assert meta["hook_msgs"]["best_score"] == np.float64(0.7564)
    assert isinstance(meta["iter"], np.integer)


def test_posec3d_0x_checkpoint_with_dataparallel_prefix_loads(stack, tmp_path):
    """posec3d.pth saved from a (Distributed)DataParallel wrapper: 'module.' on every key."""
    weights = random_weights(build("skeleton"), seed=2)
    state = old_state(weights, old_key_mmaction0x, prefix="module.")
    assert set(OLD_ANCHOR_KEYS["skeleton"]) <= set(state)
    assert all(k.startswith("module.") for k in state)
    config_text = ("model = dict(type='Recognizer3D', backbone=dict(type='ResNet3dSlowOnly', "
                   "depth=50, in_channels=17, base_channels=32, num_stages=3), "
                   "cls_head=dict(type='I3DHead', in_channels=512, num_classes=6, "
                   "dropout_ratio=0.7))\n")
    path = write_old(tmp_path / "posec3d.pth", state, mmcv1_meta(config_text),
                     optimizer=sgd_state(weights))
    load_and_check(build("skeleton"), path, weights, "skeleton")


def test_audio_0x_checkpoint_loads(stack, tmp_path):
    """audio.pth: AudioRecognizer + ResNetAudio + AudioTSNHead (0.x) into RecognizerAudio +
    TSNAudioHead (1.x); classes renamed, parameter names not."""
    weights = random_weights(build("audio"), seed=3)
    state = old_state(weights, old_key_mmaction0x)
    assert set(OLD_ANCHOR_KEYS["audio"]) <= set(state)
    config_text = ("model = dict(type='AudioRecognizer', backbone=dict(type='ResNetAudio', "
                   "depth=101, pretrained=None, in_channels=1, norm_eval=False), "
                   "cls_head=dict(type='AudioTSNHead', num_classes=4, in_channels=1024, "
                   "dropout_ratio=0.5, init_std=0.01))\n")
    path = write_old(tmp_path / "audio.pth", state, mmcv1_meta(config_text),
                     optimizer=sgd_state(weights))
    load_and_check(build("audio"), path, weights, "audio")


def test_faster_rcnn_mmdet2x_published_checkpoint_loads(stack, tmp_path):
    """The mmdet 2.x model-zoo file: publish_model.py dropped 'optimizer' and saved it with
    torch's legacy (non-zip) serialization; meta carries CLASSES and mmdet_version."""
    weights = random_weights(build("det"), seed=4)
    state = old_state(weights, old_key_mmdet2x)
    assert set(OLD_ANCHOR_KEYS["det"]) <= set(state)
    meta = mmcv1_meta("model = dict(type='FasterRCNN', pretrained='torchvision://resnet50')\n",
                      CLASSES=COCO_CLASSES, mmdet_version="2.0.0", epoch=24)
    path = write_old(tmp_path / "faster_rcnn_r50_fpn_2x_coco.pth", state, meta, legacy=True)
    assert not zipfile.is_zipfile(path)
    loaded_meta = load_and_check(build("det"), path, weights, "person detector")
    assert loaded_meta["CLASSES"][0] == "person"


def test_hrnet_mmpose0x_checkpoint_loads(stack, tmp_path):
    """mmpose 0.x TopDown: `keypoint_head.final_layer.*` goes to 1.x `head.final_layer.*`."""
    weights = random_weights(build("pose"), seed=5)
    state = old_state(weights, old_key_mmpose0x)
    assert set(OLD_ANCHOR_KEYS["pose"]) <= set(state)
    assert not any(k.startswith("head.") for k in state)
    # phar renames these itself (mmpose 1.3.2's load pre-hook would too, but only inside
    # load_state_dict, after phar's shape check)
    assert list(convert_legacy(state)) == list(weights)
    meta = mmcv1_meta("model = dict(type='TopDown', keypoint_head=dict("
                      "type='TopDownSimpleHead', in_channels=32, out_channels=17, "
                      "num_deconv_layers=0, extra=dict(final_conv_kernel=1)))\n")
    path = write_old(tmp_path / "hrnet_w32_coco_256x192.pth", state, meta, legacy=True)
    load_and_check(build("pose"), path, weights, "pose")


def test_mmpose0x_head_with_intermediate_convs_loads(stack, tmp_path):
    """0.x `final_layer.0/1` (conv, BN) + `final_layer.3` (last conv) -> 1.x `conv_layers.0/1` +
    `final_layer` (not HRNet-w32's head, but the same 0.x head class)."""
    head = dict(conv_out_channels=(8,), conv_kernel_sizes=(1,))
    weights = random_weights(build("pose", head=head), seed=6)
    state = old_state(weights, lambda k: old_key_mmpose0x(k, num_conv_layers=1))
    assert {"keypoint_head.final_layer.0.weight", "keypoint_head.final_layer.1.running_mean",
            "keypoint_head.final_layer.3.weight", "keypoint_head.final_layer.3.bias"} <= set(state)
    assert set(convert_legacy(state)) == set(weights)
    path = write_old(tmp_path / "head.pth", state, mmcv1_meta("model = dict(type='TopDown')\n"))
    load_and_check(build("pose", head=head), path, weights, "pose")


def test_current_layout_checkpoint_still_loads(stack, tmp_path):
    """A 1.x file (mmengine: `head.*` names, version-2 `_metadata`) passes the conversions as is."""
    source = build("pose")
    weights = random_weights(source, seed=7)
    state = source.state_dict()  # carries _metadata
    for key, value in weights.items():
        state[key] = value
    torch.save({"meta": {"dataset_meta": {"dataset_name": "coco"}}, "state_dict": state},
               str(tmp_path / "new.pth"))
    load_and_check(build("pose"), tmp_path / "new.pth", weights, "pose")


# --- small configs have the seed-sized parameter names ----------------------------------------------

def name_patterns(model: torch.nn.Module) -> set[str]:
    """Parameter/buffer names with block indices and stage numbers collapsed (a small config has
    fewer repeated blocks/stages than the seed-sized one, not other names)."""
    patterns = set()
    for key in model.state_dict():
        key = re.sub(r"\.\d+(?=\.|$)", ".N", key)
        patterns.add(re.sub(r"\b(layer|stage|transition)\d+", r"\1N", key))
    return patterns


@pytest.mark.parametrize("family", ["rgb", "skeleton", "audio", "det", "pose"])
def test_small_configs_use_the_seed_sized_names(stack, family):
    _, small, seed_sized = MODELS[family]
    start = time.monotonic()
    big = build(family, seed_sized)
    if family in ("rgb", "det", "pose") and time.monotonic() - start > 5:
        pytest.skip(f"building {seed_sized} took more than 5 s")
    small_names, big_names = name_patterns(build(family)), name_patterns(big)
    assert small_names == big_names, (sorted(small_names - big_names)[:5],
                                      sorted(big_names - small_names)[:5])


# --- errors -------------------------------------------------------------------------------------

def test_wrong_label_map_is_one_line_naming_both_class_counts(stack, tmp_path):
    weights = random_weights(build("rgb"), seed=8)  # 17 classes, as timeSformer.pth
    path = write_old(tmp_path / "timeSformer.pth", old_state(weights, old_key_mmaction0x),
                     mmcv1_meta("model = dict()\n"))
    with pytest.raises(ModelLoadError) as err:
        load_weights(build("rgb", num_classes=6), path, what="rgb")
    message = str(err.value)
    assert "\n" not in message
    assert "17 classes" in message and "gives 6" in message
    assert str(path) in message


def test_wrong_keypoint_count_in_old_pose_head_is_caught_before_torch(stack, tmp_path):
    """The renamed 0.x head goes through phar's shape check (not torch's multi-line error)."""
    weights = random_weights(build("pose"), seed=9)
    path = write_old(tmp_path / "pose.pth", old_state(weights, old_key_mmpose0x),
                     mmcv1_meta("model = dict()\n"))
    with pytest.raises(ModelLoadError) as err:
        load_weights(build("pose", head=dict(out_channels=16)), path, what="pose")
    assert "\n" not in str(err.value)
    assert "17 classes/outputs" in str(err.value) and "gives 16" in str(err.value)


def test_text_file_is_not_a_checkpoint(stack, tmp_path):
    path = tmp_path / "audio.pth"
    path.write_text("<html>404 Not Found</html>\n")
    with pytest.raises(ModelLoadError) as err:
        load_weights(build("audio"), path, what="audio")
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_an_unrelated_extra_key_is_ignored_with_a_warning_unless_strict(stack, tmp_path, caplog,
                                                                         monkeypatch):
    """The prototype loaded with strict=False: a key its model ignores (an EMA copy, a leftover
    head) loads, warned about once; --strict-checkpoints refuses it."""
    weights = random_weights(build("audio"), seed=10)
    state = old_state(weights, old_key_mmaction0x)
    state["backbone.adapter.weight"] = torch.zeros(3)
    path = write_old(tmp_path / "audio.pth", state, mmcv1_meta("model = dict()\n"))
    model = build("audio")
    load_weights(model, path, what="audio")
    assert "1 key(s) the model does not use (backbone.adapter.weight)" in caplog.text
    for key, value in weights.items():
        torch.testing.assert_close(model.state_dict()[key], value)
    monkeypatch.setenv("PHAR_STRICT_CHECKPOINTS", "1")
    with pytest.raises(ModelLoadError) as err:
        load_weights(build("audio"), path, what="audio")
    assert "unexpected 1 (e.g. backbone.adapter.weight)" in str(err.value)
    assert "missing" not in str(err.value)
