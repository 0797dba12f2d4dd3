"""The one place that runs ffmpeg. Commands are lists, `-nostdin`, stderr captured into errors.

A system ffmpeg on PATH is preferred (it usually has more codecs); otherwise the binary that the
imageio-ffmpeg wheel carries. ffprobe is not required anywhere: imageio-ffmpeg ships no ffprobe.
"""
from __future__ import annotations

import functools
import os
import re
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


class StderrTail:
    """Drain a child's stderr on a thread (a full pipe would stall ffmpeg), keeping its start
    (where the cause is) and its end (bounded: a chatty run cannot fill memory)."""

    def __init__(self, stream, limit: int = 64 * 1024) -> None:
        import threading

        self._stream, self._limit = stream, limit
        self._head, self._data = bytearray(), bytearray()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        for chunk in iter(lambda: self._stream.read1(4096), b""):
            if len(self._head) < 4096:
                self._head += chunk[:4096 - len(self._head)]
            self._data += chunk
            del self._data[:-self._limit]

    def text(self) -> str:
        """The first line ffmpeg printed: run with `-loglevel error`, that is the cause (the
        lines after it are the consequences), without the '@ 0x55...' addresses."""
        self._thread.join(timeout=5)
        lines = [ln.strip() for ln in bytes(self._head).decode("utf-8", "replace").splitlines()
                 if ln.strip()]
        if not lines:
            return stderr_tail(bytes(self._data))
        return re.sub(r" @ 0x[0-9a-f]+\]", "]", lines[0])


def popen_ffmpeg(args: Sequence[str], *, stdin: int | None = None,
                 stdout: int | None = None) -> tuple[subprocess.Popen[bytes], StderrTail]:
    """Start ffmpeg for streaming (frames in or out); its stderr is drained into a StderrTail."""
    devnull = subprocess.DEVNULL
    proc = subprocess.Popen(ffmpeg_cmd(args), stdin=devnull if stdin is None else stdin,
                            stdout=devnull if stdout is None else stdout, stderr=subprocess.PIPE)
    return proc, StderrTail(proc.stderr)


def run_ffmpeg_progress(args: Sequence[str], what: str, total_seconds: float,
                        progress=None) -> None:
    """Run ffmpeg, reporting `progress(seconds_done, total_seconds)` from its `-progress` output;
    on failure raise FFmpegError('<what>: <ffmpeg's first error line>')."""
    proc, tail = popen_ffmpeg(["-nostats", "-progress", "pipe:1", *args], stdout=subprocess.PIPE)
    try:
        for line in proc.stdout:
            key, _, value = line.decode("ascii", "replace").strip().partition("=")
            if progress is not None and key == "out_time_us" and value.lstrip("-").isdigit():
                progress(min(total_seconds, max(0.0, int(value) / 1e6)), total_seconds)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    code = proc.wait()
    if code != 0:
        raise FFmpegError(f"{what}: {tail.text()}")
    if progress is not None:
        progress(total_seconds, total_seconds)


@functools.lru_cache(maxsize=1)
def _full_help() -> bytes:
    return run_ffmpeg(["-h", "full"], "ffmpeg -h full", check=False).stdout


def has_option(name: str) -> bool:
    """Whether this ffmpeg knows `-name` (options come and go between releases)."""
    return f"-{name} ".encode() in _full_help() or f"-{name}[".encode() in _full_help()


def passthrough() -> list[str]:
    """`-fps_mode passthrough` (ffmpeg 5.1+), or the older spelling `-vsync passthrough`: every
    decoded frame written once, none dropped or repeated to make a constant rate."""
    return ["-fps_mode", "passthrough"] if has_option("fps_mode") else ["-vsync", "passthrough"]
