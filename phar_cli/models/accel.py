"""Device helpers for model forwards: autocast at a chosen precision, and pinned host memory so
host-to-GPU copies do not block.

Why: on CUDA, half-precision autocast and copies that overlap compute are most of the speed a GPU
has to offer these models; on a CPU with AVX512-BF16 or AMX, bf16 autocast can pay too. Every
helper is guarded by the device type, so a CPU-only machine never calls a CUDA API, and "fp32"
(the default) changes nothing at all.
"""
from __future__ import annotations

import contextlib
from typing import Any

from phar_cli.errors import InvalidOption, UsageError

PRECISIONS = ("fp32", "bf16", "fp16")


def parse_precision(precision: str) -> str:
    """`--precision` as one of PRECISIONS (any case, spaces ignored)."""
    precision = precision.strip().lower()
    if precision not in PRECISIONS:
        raise InvalidOption("precision", f"{precision!r}: choose from {', '.join(PRECISIONS)}")
    return precision


def check_precision(precision: str, device: str) -> str:
    """The precision, validated for the device: fp16 autocast is for CUDA only."""
    precision = parse_precision(precision)
    if precision == "fp16" and not is_cuda(device):
        raise InvalidOption("precision", "fp16 needs a CUDA device; on the CPU use bf16 or fp32")
    return precision


def fast_bf16(device: str) -> bool:
    """Whether bf16 pays on `device`: CUDA, or a CPU with AVX512-BF16 or AMX (elsewhere bf16 is
    emulated and slower than fp32)."""
    if is_cuda(device):
        return True
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def is_cuda(device: str) -> bool:
    return str(device).startswith("cuda")


def autocast(precision: str, device: str) -> contextlib.AbstractContextManager[Any]:
    """A context that runs a forward at `precision` (no-op for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    import torch

    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type="cuda" if is_cuda(device) else "cpu", dtype=dtype)


def enable_async_copies(model: Any, device: str) -> None:
    """On CUDA, let the model's data preprocessor copy its (pinned) inputs without blocking."""
    preprocessor = getattr(model, "data_preprocessor", None)
    if is_cuda(device) and preprocessor is not None and hasattr(preprocessor, "_non_blocking"):
        preprocessor._non_blocking = True


def pin(data: Any, device: str) -> Any:
    """Tensors in `data` (a pipeline result) moved to page-locked memory, on CUDA only.

    Called on the decode thread, so the pinning copy overlaps the model's work; the preprocessor
    then copies them to the GPU asynchronously.
    """
    if not is_cuda(device):
        return data
    import torch

    if isinstance(data, torch.Tensor):  # already on the device (device_prep): nothing to pin
        return data.pin_memory() if data.device.type == "cpu" else data
    if isinstance(data, dict):
        return {k: pin(v, device) for k, v in data.items()}
    if isinstance(data, list):
        return [pin(v, device) for v in data]
    return data


def autocast_features(model: Any, precision: str, device: str) -> None:
    """Run only `model.extract_feat` (backbone and neck: nearly all the arithmetic) at
    `precision`, its features handed on in fp32.

    For the detector and the pose model: mmcv's compiled NMS and RoIAlign take fp32 only, and
    mmpose decodes heatmaps through NumPy, which has no bf16.
    """
    autocast_method(model, "extract_feat", precision, device)


def autocast_method(obj: Any, name: str, precision: str, device: str) -> None:
    """Run the method `obj.<name>` at `precision`, its tensors handed on in fp32 (no-op for
    fp32 or where `obj` has no such method)."""
    if precision == "fp32" or not hasattr(obj, name):
        return
    method = getattr(obj, name)

    def at_precision(*args: Any, **kwargs: Any) -> Any:
        with autocast(precision, device):
            return _to_float(method(*args, **kwargs))

    setattr(obj, name, at_precision)


def _to_float(x: Any) -> Any:
    import torch

    if isinstance(x, torch.Tensor):
        return x.float() if x.is_floating_point() else x
    if isinstance(x, (tuple, list)):
        return type(x)(_to_float(v) for v in x)
    if isinstance(x, dict):
        return {k: _to_float(v) for k, v in x.items()}
    return x
