"""Load MMAction2/MMDet/MMPose checkpoints as they are, including the seed's MMAction2 0.x files.

A 0.x checkpoint (mmcv 1.x Runner) is `{'meta': {...}, 'state_dict': {...}, 'optimizer': ...}`,
sometimes saved from a (Distributed)DataParallel wrapper so every key starts with 'module.'; the
parameter names of the three seed architectures did not change between 0.x and 1.x. What did
change is listed in LEGACY_RENAMES and applied here, so a seed checkpoint loads with no missing
and no unexpected keys.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

from phar_cli.errors import ModelLoadError
from phar_cli.models.compat import load_trusted_checkpoint

# (pattern, replacement) applied to 0.x parameter names.
LEGACY_RENAMES: list[tuple[str, str]] = [
    (r"^module\.", ""),
]


def extract_state_dict(checkpoint: Any, source: str) -> "OrderedDict[str, Any]":
    if isinstance(checkpoint, dict):
        for key in ("state_dict", "model", "module"):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                return OrderedDict(checkpoint[key])
        if checkpoint and all(hasattr(v, "shape") for v in checkpoint.values()):
            return OrderedDict(checkpoint)
    raise ModelLoadError(f"{source}: no state_dict in this checkpoint")


def convert_legacy(state_dict: dict[str, Any]) -> "OrderedDict[str, Any]":
    out: OrderedDict[str, Any] = OrderedDict()
    for key, value in state_dict.items():
        for pattern, repl in LEGACY_RENAMES:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out


def load_weights(model: Any, path: str | Path, *, what: str) -> dict[str, Any]:
    """Load `path` into `model` strictly (after the legacy renames); returns the checkpoint meta.

    A shape mismatch in the classifier means the label map does not fit the checkpoint; that gets
    its own message because it is the usual user mistake.
    """
    path = Path(path)
    checkpoint = load_trusted_checkpoint(path)
    state = convert_legacy(extract_state_dict(checkpoint, str(path)))
    own = model.state_dict()
    for key, value in state.items():
        if key in own and tuple(own[key].shape) != tuple(value.shape):
            if "fc_cls" in key or key.startswith("cls_head") or "final_layer" in key:
                raise ModelLoadError(
                    f"{path}: {what} checkpoint predicts {value.shape[0]} classes/outputs but the "
                    f"label map or config gives {own[key].shape[0]} (wrong --label-maps or config?)")
            raise ModelLoadError(f"{path}: {what} checkpoint does not fit the config "
                                 f"({key}: {tuple(value.shape)} vs {tuple(own[key].shape)})")
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        detail = []
        if missing:
            detail.append(f"missing {len(missing)} (e.g. {missing[0]})")
        if result.unexpected_keys:
            detail.append(f"unexpected {len(result.unexpected_keys)} (e.g. {result.unexpected_keys[0]})")
        raise ModelLoadError(f"{path}: {what} checkpoint does not fit the config: {', '.join(detail)}")
    meta = checkpoint.get("meta", {}) if isinstance(checkpoint, dict) else {}
    return meta if isinstance(meta, dict) else {}
