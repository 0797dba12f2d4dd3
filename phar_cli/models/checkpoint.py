"""Load MMAction2/MMDet/MMPose checkpoints as they are, including the seed's 0.x/2.x-era files.

File layout of that era (mmcv 1.x `mmcv/runner/checkpoint.py` save_checkpoint, EpochBasedRunner,
EvalHook): `{'meta': {...}, 'state_dict': OrderedDict, 'optimizer': {'state', 'param_groups'}}`.
`meta` holds mmcv_version, time, epoch, iter, config (the config file's text), env_info, seed,
exp_name, hook_msgs (last_ckpt, best_ckpt, best_score: often a numpy scalar), and for mmdet/mmpose
CLASSES and mmdet_version/mmpose_version. OpenMMLab's released files went through
`tools/.../publish_model.py`: no 'optimizer', written with `_use_new_zipfile_serialization=False`
(torch's legacy, non-zip format). torch.load reads both formats, with `weights_only=True` and
an allowlist of the numpy types in `meta` (`safe_load.read_checkpoint`). A file saved from a
(Distributed)DataParallel wrapper has every key prefixed with 'module.'.

What changed in the parameter/buffer names, per model family (old source -> what phar builds):

* MMAction2 0.x -> 1.2.0 (timeSformer.pth, posec3d.pth, audio.pth): NOTHING changed.
  - Recognizer3D / AudioRecognizer (0.x `models/recognizers/base.py`): `backbone.`, `cls_head.`
    (and `neck.`); 1.x RecognizerAudio is the renamed class, same attributes. The 1.x
    data_preprocessor holds no persistent buffers.
  - TimeSformer (0.x `models/backbones/timesformer.py`): patch_embed.projection, cls_token,
    pos_embed, time_embed, norm, transformer_layers.layers.<i>.{attentions.0 (temporal: norm,
    attn.in_proj_weight/in_proj_bias/out_proj, temporal_fc), attentions.1 (spatial: norm, attn.*),
    ffns.0 (norm, layers.0.0, layers.1)}. Bricks from 0.x `models/common/transformer.py` and
    mmcv 1.x `cnn/bricks/transformer.py` (BaseTransformerLayer.attentions/ffns/norms,
    FFN.layers = Sequential(Sequential(Linear, act, Dropout), Linear, Dropout)); mmcv 2.1 keeps
    these names (FFN.gamma2 is a parameterless Identity at layer_scale_init_value=0; the
    ('self_attn', 'self_attn', 'ffn') order builds no `norms`).
  - TimeSformerHead, I3DHead, AudioTSNHead (0.x `models/heads/*.py`; 1.x calls the last one
    TSNAudioHead): fc_cls only (dropout/pooling have no parameters).
  - ResNet3dSlowOnly = ResNet3dPathway(lateral=False) over ResNet3d (0.x
    `models/backbones/resnet3d*.py`): conv1.{conv,bn}, layer<i>.<j>.{conv1,conv2,conv3,
    downsample}.{conv,bn}.
  - ResNetAudio (0.x `models/backbones/resnet_audio.py`, `models/common/conv_audio.py`):
    conv1.conv.conv_{1,2}.{conv,bn}, conv1.bn, layer<i>.<j>.{conv1,conv2,conv3,downsample}
    with conv2.conv.conv_{1,2} where factorised.
* MMDet 2.x -> 3.3.0 (faster_rcnn_r50_fpn_2x_coco_..._-a5d8aa15.pth): NOTHING changed.
  backbone (ResNet conv1, bn1, layer<i>.<j>.conv<k>/bn<k>/downsample.{0,1}),
  neck.{lateral,fpn}_convs.<i>.conv, rpn_head.rpn_{conv,cls,reg},
  roi_head.bbox_head.{shared_fcs.<i>,fc_cls,fc_reg}. mmdet 3.3.0's own
  configs/faster_rcnn/metafile.yml points its 3.x config at this same 2.x file.
* MMPose 0.x -> 1.3.2 (hrnet_w32_coco_256x192-c78dce93_20200708.pth): the HEAD was renamed.
  backbone (HRNet conv1, bn1, conv2, bn2, layer1, transition<i>, stage<i>) is unchanged;
  0.x TopDown.keypoint_head became TopdownPoseEstimator.head, and 0.x TopdownHeatmapSimpleHead's
  final_layer.<i> (intermediate convs) became HeatmapHead's conv_layers.<i>. HRNet-w32's head is
  one 1x1 conv: keypoint_head.final_layer.{weight,bias} -> head.final_layer.{weight,bias}.
  mmpose 1.3.2 does the same renames itself in `_load_state_dict_pre_hook`s (BasePoseEstimator,
  HeatmapHead) that run inside `model.load_state_dict`, strict or not, unless the state dict's
  `_metadata` says version >= 2. phar renames before that, so its own shape check (and the
  one-line "wrong label map" error) sees the real names; the hooks then find nothing left to do.

The renames are in LEGACY_CONVERSIONS; each is a no-op unless its old-layout keys are present.
"""
from __future__ import annotations

import logging
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

from phar_cli.errors import ModelLoadError
from phar_cli.models.safe_load import env_flag, read_checkpoint

log = logging.getLogger("phar")
STRICT_ENV = "PHAR_STRICT_CHECKPOINTS"  # `phar --strict-checkpoints`: refuse unexpected keys too
Conversion = Callable[["OrderedDict[str, Any]"], "OrderedDict[str, Any]"]

_WRAPPER_PREFIX = "module."
_FINAL_LAYER_INDEXED = re.compile(r"^head\.final_layer\.(\d+)\.(.+)$")


def _strip_wrapper_prefix(state: "OrderedDict[str, Any]") -> "OrderedDict[str, Any]":
    # mmcv 1.x runner/checkpoint.py load_checkpoint(revise_keys=[(r'^module\.', '')]): (D)DP prefix
    if not state or not all(k.startswith(_WRAPPER_PREFIX) for k in state):
        return state
    return OrderedDict((k[len(_WRAPPER_PREFIX):], v) for k, v in state.items())


def _mmpose_0x_topdown_head(state: "OrderedDict[str, Any]") -> "OrderedDict[str, Any]":
    # mmpose 0.x models/detectors/top_down.py: TopDown.keypoint_head -> 1.x estimator's `head`
    if not any(k.startswith("keypoint_head.") for k in state):
        return state
    state = OrderedDict(("head." + k[len("keypoint_head."):] if k.startswith("keypoint_head.")
                         else k, v) for k, v in state.items())
    # mmpose 0.x heads/topdown_heatmap_simple_head.py: final_layer = Sequential([conv, BN, ReLU]
    # * num_conv_layers + [conv]) -> 1.x HeatmapHead conv_layers.<i> + final_layer (last conv)
    indices = [int(m.group(1)) for m in map(_FINAL_LAYER_INDEXED.match, state) if m]
    if not indices:
        return state
    last = max(indices)
    out: OrderedDict[str, Any] = OrderedDict()
    for key, value in state.items():
        m = _FINAL_LAYER_INDEXED.match(key)
        if m:
            idx, rest = int(m.group(1)), m.group(2)
            key = f"head.final_layer.{rest}" if idx == last else f"head.conv_layers.{idx}.{rest}"
        out[key] = value
    return out


# Applied in this order. MMAction2 0.x and MMDet 2.x need no entry (see the module docstring).
LEGACY_CONVERSIONS: list[tuple[str, Conversion]] = [
    ("any family: 'module.' prefix of a (Distributed)DataParallel save", _strip_wrapper_prefix),
    ("mmpose 0.x TopDown: keypoint_head.* -> head.* (final_layer.<i> -> conv_layers.<i>)",
     _mmpose_0x_topdown_head),
]


def extract_state_dict(checkpoint: Any, source: str) -> "OrderedDict[str, Any]":
    """The parameter dict of a loaded checkpoint file (plain OrderedDict; torch's `_metadata` is
    dropped, so version-gated load hooks treat it as old, which every conversion here tolerates)."""
    if isinstance(checkpoint, dict):
        for key in ("state_dict", "model", "module"):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                return OrderedDict(checkpoint[key])
        if checkpoint and all(hasattr(v, "shape") for v in checkpoint.values()):
            return OrderedDict(checkpoint)
    raise ModelLoadError(f"{source}: no state_dict in this checkpoint")


def convert_legacy(state_dict: dict[str, Any]) -> "OrderedDict[str, Any]":
    """Rename 0.x/2.x-era keys to the names the 1.x/3.x models use (see LEGACY_CONVERSIONS)."""
    state: OrderedDict[str, Any] = OrderedDict(state_dict)
    for _, convert in LEGACY_CONVERSIONS:
        state = convert(state)
    return state


def _is_classifier(key: str) -> bool:
    return "fc_cls" in key or key.startswith("cls_head") or "final_layer" in key


def strict() -> bool:
    """Whether a checkpoint with keys its model does not use is refused (else: warned about)."""
    return env_flag(STRICT_ENV)


def load_weights(model: Any, path: str | Path, *, what: str) -> dict[str, Any]:
    """Load `path` into `model` (after the legacy renames); returns the checkpoint meta.

    Missing keys and shape mismatches fail. Keys the model does not use (an EMA copy, a leftover
    head) are ignored with a warning, as the prototype's `strict=False` loads did, unless
    `PHAR_STRICT_CHECKPOINTS=1`. A shape mismatch in the classifier means the label map does not
    fit the checkpoint; that gets its own message because it is the usual user mistake. Every
    failure is one ModelLoadError line.
    """
    path = Path(path)
    checkpoint = read_checkpoint(path)
    state = convert_legacy(extract_state_dict(checkpoint, str(path)))
    own = model.state_dict()
    for key, value in state.items():
        if key in own and hasattr(value, "shape") and tuple(own[key].shape) != tuple(value.shape):
            if _is_classifier(key) and value.ndim >= 1 and own[key].ndim >= 1:
                raise ModelLoadError(
                    f"{path}: {what} checkpoint predicts {value.shape[0]} classes/outputs but the "
                    f"label map or config gives {own[key].shape[0]} (wrong label map or config?)")
            raise ModelLoadError(f"{path}: {what} checkpoint does not fit the config "
                                 f"({key}: {tuple(value.shape)} vs {tuple(own[key].shape)})")
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as ex:  # torch's multi-line report (e.g. a non-tensor value): one line
        first = str(ex).strip().splitlines()
        raise ModelLoadError(f"{path}: {what} checkpoint does not fit the config "
                             f"({first[-1].strip() if first else type(ex).__name__})") from ex
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    unexpected = list(result.unexpected_keys)
    if missing or (unexpected and strict()):
        detail = []
        if missing:
            detail.append(f"missing {len(missing)} (e.g. {missing[0]})")
        if unexpected:
            detail.append(f"unexpected {len(unexpected)} (e.g. {unexpected[0]})")
        raise ModelLoadError(f"{path}: {what} checkpoint does not fit the config: {', '.join(detail)}")
    if unexpected:
        log.warning("%s: %s checkpoint holds %d key(s) the model does not use (%s%s): ignored, as "
                    "the prototype did (--strict-checkpoints refuses such files)", path, what,
                    len(unexpected), ", ".join(unexpected[:3]), ", ..." if len(unexpected) > 3 else "")
    meta = checkpoint.get("meta", {}) if isinstance(checkpoint, dict) else {}
    return meta if isinstance(meta, dict) else {}
