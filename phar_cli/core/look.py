"""A video's *look*: what its pictures are like to the RGB model, as vectors a recommender can
compare (`phar similar`).

Each analysed window keeps the pooled feature the RGB model's head classifies (TimeSformer's
768 numbers for the seed's model; the mean over its views), taken by a hook during the forward
the scores come from, so it costs no extra pass. The video's vector is the mean over its action
windows (not background, not content-free), L2-normalised; a video with no action window takes
every window. Vectors are kept as float16 (half the bytes; cosines move by about 1e-3).

Vectors of two RGB checkpoints live in different spaces: a look records the model that made it
(the first 16 hex digits of its checkpoint's sha256) and looks of two models are never compared.
"""
from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DTYPE = np.float16
MODEL_ID_LEN = 16


@dataclass(frozen=True)
class Look:
    model: str                  # the RGB checkpoint's sha256, first 16 hex digits
    windows: tuple[int, ...]    # which of the analysis' planned windows have a vector
    vectors: np.ndarray         # (len(windows), dims) float16
    video: np.ndarray           # (dims,) float16, L2-normalised
    over: str                   # "action": the mean over action windows; "all": every window

    @property
    def dims(self) -> int:
        return int(self.video.shape[0])

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "dims": self.dims, "dtype": "float16", "over": self.over,
                "video": _encode(self.video), "windows": list(self.windows),
                "vectors": _encode(self.vectors)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Look:
        if data.get("dtype") != "float16":
            raise ValueError(f"look dtype {data.get('dtype')!r} (expected float16)")
        dims = int(data["dims"])
        windows = tuple(int(i) for i in data["windows"])
        video = _decode(data["video"], (dims,))
        vectors = _decode(data["vectors"], (len(windows), dims))
        if data.get("over") not in ("action", "all"):
            raise ValueError(f"look over {data.get('over')!r}")
        return cls(str(data["model"]), windows, vectors, video, data["over"])


def look_of(features: Sequence[np.ndarray | None], model: str,
            is_action: Callable[[int], bool]) -> Look | None:
    """The look of windows whose RGB features are `features` (None where the RGB model did not
    run), `is_action(i)` saying whether window i holds an action; None without any feature."""
    have = [i for i, f in enumerate(features) if f is not None]
    if not have:
        return None
    rows = np.stack([np.asarray(features[i], np.float32) for i in have])
    action = [k for k, i in enumerate(have) if is_action(i)]
    mean = rows[action].mean(axis=0) if action else rows.mean(axis=0)
    return Look(model, tuple(have), rows.astype(DTYPE), unit(mean).astype(DTYPE),
                "action" if action else "all")


def unit(vector: np.ndarray) -> np.ndarray:
    """`vector` (float32) over its length; zeros stay zeros."""
    vector = np.asarray(vector, np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _encode(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, DTYPE).astype("<f2").tobytes()).decode()


def _decode(text: str, shape: tuple[int, ...]) -> np.ndarray:
    raw = base64.b64decode(text.encode(), validate=True)
    array = np.frombuffer(raw, dtype="<f2")
    if array.size != int(np.prod(shape)) or not np.isfinite(array).all():
        raise ValueError(f"look vectors: expected {int(np.prod(shape))} finite float16 "
                         f"values, got {array.size}")
    return array.reshape(shape).astype(DTYPE)
