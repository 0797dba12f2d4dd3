"""The frames of many windows, decoded by several workers at once and handed back in order.

Why: one reader fetching window after window keeps one core busy while the models wait for it
(on a GPU, most of the time). Here each of N workers takes a reader (`FrameReader`, one decoder
thread; readers are kept for the next call) and decodes a run of consecutive windows (a chunk)
front to back: decord decodes forward through a group of pictures without seeking, jumps to a
keyframe only past one, and converts and scales only the frames asked for. Chunks go to the workers in order and come back in order, and
at most `in_flight` of them exist at once, so memory is bounded by the chunk size, never by the
video's length. A chunk is sized from the frames' bytes: many small RGB windows, one window of
full-size skeleton frames.
"""
from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

K = TypeVar("K")

IN_FLIGHT_SHARE = 32           # decoded frames waiting for the models: this share of the RAM,
IN_FLIGHT_MIN, IN_FLIGHT_MAX = 256 * 2**20, 4 * 2**30  # all chunks together, within these
MAX_CHUNK_WINDOWS = 8          # windows a worker decodes in one go
MAX_AUTO_WORKERS = 8           # beyond this decoding outruns any model phar runs


def in_flight_budget(ram_bytes: int | None = None) -> int:
    """Bytes of decoded frames allowed to wait for the models: a share of the machine's RAM
    (enough for several full-size windows per worker on a large machine), never the video's."""
    if ram_bytes is None:
        try:
            ram_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):  # no sysconf (Windows): assume 16 GiB
            ram_bytes = 16 * 2**30
    return max(IN_FLIGHT_MIN, min(IN_FLIGHT_MAX, ram_bytes // IN_FLIGHT_SHARE))


def auto_decode_workers(cores: int | None = None) -> int:
    """Decode workers when the option is not given: half the cores this process may use (the
    other half pre-processes and feeds the models), 1 to MAX_AUTO_WORKERS."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_AUTO_WORKERS, (cores or 1) // 2))


class WindowFrames:
    """`frames(requests)`: for each (key, frame indices) request, in order, (key, frames) with
    frames as `FrameReader.frames` returns them, decoded by `workers` readers in parallel."""

    def __init__(self, path: str, *, short_side: int | None, info: Any, eye: str | None,
                 workers: int = 1, in_flight_bytes: int | None = None) -> None:
        if workers < 1:
            raise ValueError(f"decode workers must be at least 1, not {workers}")
        self.path, self.short_side, self.info, self.eye = path, short_side, info, eye
        self.workers = workers
        self.in_flight_bytes = in_flight_bytes or in_flight_budget()
        self._idle: queue.SimpleQueue = queue.SimpleQueue()  # readers not decoding right now
        self._lock = threading.Lock()
        first = self._open()  # here: a video that cannot be read fails before any work starts
        self._idle.put(first)
        self.frame_size = (first.eye_height, first.eye_width)
        self.frames_decoded = 0  # frames handed back so far (a benchmark's frames/s)

    def _open(self) -> Any:
        from phar_cli.media.decode import FrameReader

        return FrameReader(self.path, short_side=self.short_side, info=self.info, eye=self.eye)

    def _take(self) -> Any:
        """An idle reader, or a new one (at most one per worker thread is ever busy)."""
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._open()

    def plan(self, frames_per_window: int) -> tuple[int, int]:
        """(windows per chunk, chunks in flight) for windows of about `frames_per_window` frames."""
        height, width = self.frame_size
        window_bytes = max(1, frames_per_window) * height * width * 3
        slots = max(1, self.in_flight_bytes // window_bytes)  # windows that fit in memory
        # the chunks being decoded, and the one the consumer holds
        in_flight = max(1, min(self.workers + 1, slots - 1))
        chunk = max(1, min(MAX_CHUNK_WINDOWS, slots // (in_flight + 1)))
        return chunk, in_flight

    def frames(self, requests: Sequence[tuple[K, np.ndarray]]) -> Iterator[tuple[K, np.ndarray]]:
        if not requests:
            return
        mean_frames = sum(len(np.unique(idx)) for _, idx in requests) / len(requests)
        chunk, in_flight = self.plan(round(mean_frames))
        # a short video still gets every worker busy, and one more chunk to decode while the
        # first is used
        chunk = min(chunk, -(-len(requests) // (self.workers + 1)))
        chunks = [requests[s:s + chunk] for s in range(0, len(requests), chunk)]
        if len(chunks) == 1:  # nothing to overlap: on the caller's thread
            yield from zip((key for key, _ in chunks[0]), self._decode(chunks[0]))
            return
        with ThreadPoolExecutor(min(self.workers, len(chunks)),
                                thread_name_prefix="phar-decode") as pool:
            pending: deque[tuple[Sequence[tuple[K, np.ndarray]], Future]] = deque()
            try:
                for part in chunks:
                    pending.append((part, pool.submit(self._decode, part)))
                    if len(pending) > in_flight:  # `in_flight` decode while this one is used
                        done_part, future = pending.popleft()
                        yield from zip((key for key, _ in done_part), future.result())
                while pending:
                    done_part, future = pending.popleft()
                    yield from zip((key for key, _ in done_part), future.result())
            finally:
                for _, future in pending:  # the consumer stopped early: drop what is queued
                    future.cancel()

    def _decode(self, part: Sequence[tuple[Any, np.ndarray]]) -> list[np.ndarray]:
        """One chunk's windows, front to back with one reader."""
        reader = self._take()
        try:
            out = [reader.frames(idx) for _, idx in part]
        finally:
            reader.park()  # idle until the next chunk: no decoding ahead into memory
            self._idle.put(reader)
        with self._lock:
            self.frames_decoded += sum(len(f) for f in out)
        return out
