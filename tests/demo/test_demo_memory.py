"""The demo streams frames: the process's peak memory does not grow with the video's length."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from phar_cli.synthetic.video import Scene, make_video

from tests.mediacheck import hand_analysis

SIZE, FPS = (128, 96), 15   # 5 min = 4500 frames: 166 MB if they were all kept


def peak_rss_mb(argv: list[str]) -> float:
    """Run a command; its peak resident memory (VmHWM) in MB, polled from /proc. (getrusage
    of a child is no use here: Linux carries the parent's peak across fork and exec.)"""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            pass
        time.sleep(0.01)
    assert proc.returncode == 0, proc.stderr.read().decode()
    return peak


def demo_peak(folder: Path, seconds: int) -> float:
    colours = ["red", "green", "blue", "yellow"]
    video = make_video(folder / f"{seconds}s.mp4", size=SIZE, fps=FPS, audio=False, segments=[
        Scene(10, colours[i % 4], "circle") for i in range(seconds // 10)])
    windows = [("doggy", 0.9), ("kissing", 0.7)] * (seconds // 14 + 1)
    preds = folder / f"{seconds}s.json"
    preds.write_bytes(hand_analysis(video, seconds, windows[:-(-seconds // 7)], 7.0,
                                    ["doggy", "kissing"], fps=FPS, size=SIZE).to_json())
    return peak_rss_mb([sys.executable, "-m", "phar_cli.cli", "-q", "demo", str(video),
                        str(folder / f"{seconds}s-demo.mp4"), "--from-json", str(preds),
                        "--preset", "ultrafast"])


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_peak_memory_is_flat_from_30_seconds_to_5_minutes(tmp_path):
    short = demo_peak(tmp_path, 30)
    long = demo_peak(tmp_path, 300)
    print(f"demo peak RSS: 30 s video {short:.1f} MB, 5 min video {long:.1f} MB")
    assert long <= short + max(0.15 * short, 30.0), (short, long)
