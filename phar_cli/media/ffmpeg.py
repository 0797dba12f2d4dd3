"""The one place that runs ffmpeg. Commands are lists, `-nostdin`, stderr captured into errors.

A system ffmpeg on PATH is preferred (it usually has more codecs); otherwise the binary that the
imageio-ffmpeg wheel carries. ffprobe is not required anywhere: imageio-ffmpeg ships no ffprobe.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence

from phar_cli.errors import FFmpegError, ToolNotFound


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    override = os.environ.get("PHAR_FFMPEG")
    if override:
        return override
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError as ex:
        raise ToolNotFound("ffmpeg not found: install it (apt-get install ffmpeg) or "
                           "`pip install imageio-ffmpeg`") from ex
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as ex:
        raise ToolNotFound(f"ffmpeg not found: {ex}") from ex


def ffmpeg_cmd(args: Sequence[str]) -> list[str]:
    return [ffmpeg_exe(), "-nostdin", "-hide_banner", *args]


def run_ffmpeg(args: Sequence[str], what: str, *, input: bytes | None = None,
               check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg with `args`; on failure raise FFmpegError('<what>: <last stderr line>')."""
    cmd = ffmpeg_cmd(args)
    proc = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and proc.returncode != 0:
        raise FFmpegError(f"{what}: {stderr_tail(proc.stderr)}")
    return proc


def stderr_tail(stderr: bytes, lines: int = 1) -> str:
    text = stderr.decode("utf-8", "replace").strip().splitlines()
    tail = [line.strip() for line in text if line.strip()][-lines:]
    return " | ".join(tail) or "ffmpeg failed with no message"
