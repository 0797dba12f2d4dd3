"""Which torch device a `device` option names: 'auto' (CUDA when present), 'cpu', 'cuda' or
'cuda:N'. One parser for the engine, training and the batch pool."""
from __future__ import annotations

from phar_cli.errors import InvalidOption


def parse_device(device: str) -> tuple[str, int | None]:
    """('auto' | 'cpu' | 'cuda', index or None), without looking at the machine."""
    text = device.strip().lower()
    if text in ("auto", "cpu", "cuda"):
        return text, None
    if text.startswith("cuda:") and text[5:].isdigit():
        return "cuda", int(text[5:])
    raise InvalidOption("device", f"{device!r}: use auto, cpu, cuda or cuda:N")


def resolve_device(device: str) -> str:
    """The one device to run on: 'cpu', 'cuda' (auto's pick) or 'cuda:N', checked against this
    machine."""
    kind, index = parse_device(device)
    if kind == "cpu":
        return "cpu"
    import torch

    if kind == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise InvalidOption("device", f"{device.strip()}: CUDA is not available on this machine")
    index = index or 0
    if index >= torch.cuda.device_count():
        raise InvalidOption("device", f"{device.strip()}: only {torch.cuda.device_count()} "
                                      "CUDA device(s)")
    return f"cuda:{index}"


def cuda_devices(device: str) -> list[str]:
    """Every CUDA device the option lets a pool spread over ('auto'/'cuda': all of them,
    'cuda:N': that one); none for 'cpu' or 'auto' on a machine without CUDA."""
    kind, index = parse_device(device)
    if kind == "cpu":
        return []
    import torch

    if kind == "auto" and not torch.cuda.is_available():
        return []
    if index is not None:
        return [resolve_device(device)]
    resolve_device(device)  # 'cuda' without CUDA: the one-line error
    return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
