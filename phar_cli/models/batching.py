"""How many items go through a model in one forward when the user does not say (`--batch-size`
for windows, `--frame-batch` for the person detector and pose model's frames or people).

Why these numbers: on a CPU a larger batch buys nothing (each forward already keeps the cores
busy) and the detector at full size is even slower batched (docs/performance.md), so the CPU
keeps the sizes it was measured with. A GPU wants many items per launch; the caps below are the
sizes the seed-sized models fit comfortably in 16 GiB, scaled down on a GPU with less free memory.
"""
from __future__ import annotations

CPU_WINDOWS = 4    # windows per TimeSformer / PoseC3D / audio forward on a CPU
CPU_FRAMES = 16    # frames (or people) per detector / pose forward on a CPU
GPU_WINDOWS = 16   # the same on a GPU with GPU_REFERENCE_FREE bytes free (TimeSformer x3 views:
GPU_FRAMES = 64    # ~6 GiB of activations at 16; Faster R-CNN at 1333 px: ~5 GiB at 64)
GPU_REFERENCE_FREE = 16 * 2**30


def window_batch(device: str) -> int:
    """Windows per recognizer forward on `device`."""
    return _for_device(device, CPU_WINDOWS, GPU_WINDOWS)


def frame_batch(device: str) -> int:
    """Frames (or people) per detector / pose forward on `device`."""
    return _for_device(device, CPU_FRAMES, GPU_FRAMES)


def scaled_to_memory(cap: int, free_bytes: int) -> int:
    """`cap` when `free_bytes` reach GPU_REFERENCE_FREE, proportionally fewer below, at least 1."""
    return max(1, min(cap, cap * free_bytes // GPU_REFERENCE_FREE))


def _for_device(device: str, cpu: int, gpu: int) -> int:
    from phar_cli.models.accel import is_cuda

    if not is_cuda(device):
        return cpu
    import torch

    free, _ = torch.cuda.mem_get_info(torch.device(device))
    return scaled_to_memory(gpu, free)
