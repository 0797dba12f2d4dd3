"""Every frame of a video, in order, upright, streamed from one ffmpeg decoder.

Why not decord here: the demo needs *all* frames once, in order, with bounded memory; an ffmpeg
decode pipe gives exactly that (no index, no seeking, one frame in flight) and decodes on its own
cores while Python draws. ffmpeg turns rotated video upright (autorotate), as decord does, so
frames come out at `VideoInfo`'s display size; `-fps_mode passthrough` neither drops nor
duplicates a frame.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import numpy as np

from phar_cli.errors import VideoOpenError
from phar_cli.media.ffmpeg import passthrough, popen_ffmpeg
from phar_cli.media.probe import VideoInfo


def stream_frames(info: VideoInfo) -> Iterator[np.ndarray]:
    """Yield each decoded frame of `info.path`'s first video stream as writable (H, W, 3) uint8
    RGB at the display size. A decode failure raises VideoOpenError naming the file."""
    width, height = info.width, info.height
    size = width * height * 3
    args = ["-loglevel", "error", "-i", "file:" + os.path.abspath(info.path), "-map", "0:V:0",
            "-an", "-sn", "-dn", *passthrough(), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    proc, stderr = popen_ffmpeg(args, stdout=subprocess.PIPE)
    try:
        while True:
            buf = bytearray(size)
            got = proc.stdout.readinto(buf)
            while 0 < got < size:
                more = proc.stdout.readinto(memoryview(buf)[got:])
                if not more:
                    break
                got += more
            if got == 0:
                break
            if got < size:
                raise VideoOpenError(f"{info.path}: decoder returned a partial frame "
                                     f"({got} of {size} bytes; expected {width}x{height})")
            yield np.frombuffer(buf, np.uint8).reshape(height, width, 3)
        if proc.wait() != 0:
            raise VideoOpenError(f"{info.path}: decoding failed: {stderr.text()}")
    finally:
        if proc.poll() is None:  # the consumer stopped early or failed
            proc.kill()
            proc.wait()
        proc.stdout.close()
