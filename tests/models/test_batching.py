"""Batch sizes when the user gives none (models/batching.py): the CPU's measured sizes, a GPU's
caps scaled down by its free memory."""
from __future__ import annotations

from phar_cli.models.batching import (CPU_FRAMES, CPU_WINDOWS, GPU_REFERENCE_FREE, frame_batch,
                                      scaled_to_memory, window_batch)


def test_a_cpu_keeps_the_sizes_it_was_measured_with():
    assert (window_batch("cpu"), frame_batch("cpu")) == (CPU_WINDOWS, CPU_FRAMES)


def test_a_gpu_cap_shrinks_with_its_free_memory_but_never_to_nothing():
    assert scaled_to_memory(64, 4 * GPU_REFERENCE_FREE) == 64
    assert scaled_to_memory(64, GPU_REFERENCE_FREE // 4) == 16
    assert scaled_to_memory(16, 2**20) == 1
