"""Read back what phar wrote, independently of the code under test: decode with ffmpeg (or
decord), name each frame's scene colour, find each second's audio tone, list packets."""
from __future__ import annotations

import os
import re
import subprocess

import numpy as np

from phar_cli.core.predictions import Analysis, VideoMeta, WindowPrediction
from phar_cli.spans import Span
from phar_cli.media.ffmpeg import ffmpeg_cmd
from phar_cli.synthetic.video import COLORS

AUDIO_RATE = 16000


def _run(args: list[str]) -> bytes:
    proc = subprocess.run(ffmpeg_cmd(args), capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    return proc.stdout


def decode_frames(path: os.PathLike | str, width: int, height: int) -> np.ndarray:
    """Every frame (N, H, W, 3) uint8 RGB, upright, none dropped or repeated."""
    raw = _run(["-loglevel", "error", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
    assert len(raw) % (width * height * 3) == 0
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def decode_audio(path: os.PathLike | str, rate: int = AUDIO_RATE) -> np.ndarray:
    return np.frombuffer(_run(["-loglevel", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1",
                               "-ar", str(rate), "-f", "f32le", "-"]), "<f4")


def tones_per_second(samples: np.ndarray, rate: int = AUDIO_RATE) -> list[int]:
    """The dominant frequency (Hz, rounded to 10) of each whole second, its edges left out
    (codec priming and cut points blur the first and last 100 ms)."""
    tones = []
    for s in range(len(samples) // rate):
        chunk = samples[s * rate + rate // 10:(s + 1) * rate - rate // 10]
        spectrum = np.abs(np.fft.rfft(chunk * np.hanning(len(chunk))))
        tones.append(int(round(np.argmax(spectrum) * rate / len(chunk), -1)))
    return tones


def scene_colours(frames: np.ndarray) -> list[str]:
    """The name of each frame's background colour, from a strip at the left edge below the
    corner marker (the disc of a 'still' scene stays in the middle)."""
    names = list(COLORS)
    table = np.array([COLORS[n] for n in names], float)
    h = frames.shape[1]
    patch = frames[:, h // 3: 2 * h // 3, 2:10].reshape(len(frames), -1, 3).astype(float)
    means = np.median(patch, axis=1)
    return [names[int(np.argmin(((table - m) ** 2).sum(1)))] for m in means]


def runs(seq: list) -> list[tuple]:
    """[a, a, b] -> [(a, 2), (b, 1)]."""
    out: list[list] = []
    for x in seq:
        if out and out[-1][0] == x:
            out[-1][1] += 1
        else:
            out.append([x, 1])
    return [tuple(r) for r in out]


def packet_hashes(path: os.PathLike | str, stream: str) -> list[str]:
    """Per-packet checksums of one stream (framecrc, no decoding): equal lists = copied."""
    text = _run(["-loglevel", "error", "-i", str(path), "-map", f"0:{stream}", "-c", "copy",
                 "-f", "framecrc", "-"]).decode()
    return [line.split(",")[5].strip() for line in text.splitlines() if line and line[0] != "#"]


def header(path: os.PathLike | str) -> str:
    proc = subprocess.run(ffmpeg_cmd(["-i", str(path)]), capture_output=True)
    return proc.stderr.decode(errors="replace")


def video_codec(path: os.PathLike | str) -> str:
    return re.search(r"Video: (\w+)", header(path))[1]


def hand_analysis(path: os.PathLike | str, duration: float, tops: list[tuple[str, float]],
                  window: float, labels: list[str], used: list[str] | None = None,
                  fps: float = 30.0, size: tuple[int, int] = (160, 120)) -> Analysis:
    """Windows of `window` s tiling `duration`, window i's top label and score from `tops[i]`
    (the other labels get less)."""
    windows = []
    for i, (label, score) in enumerate(tops):
        start, end = round(i * window, 6), round(min(duration, (i + 1) * window), 6)
        rest = [lab for lab in labels if lab != label]
        share = min(0.9 * score, (1 - score) / max(1, len(rest)))  # below `score`: stays top
        others = [(lab, round(share / (k + 1), 6)) for k, lab in enumerate(rest)]
        windows.append(WindowPrediction(Span(start, end), [(label, score), *others],
                                        used=list(used or ["rgb"])))
    return Analysis(VideoMeta(str(path), duration, fps, *size), labels, windows,
                    {"subclip_len": window})
