"""A batch output folder made by hand: catalog rows with chosen profiles and looks, and
predictions files beside them, as `phar batch` leaves them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from phar_cli.batch.catalog import Catalog
from phar_cli.core.action_profile import profile
from phar_cli.core.look import Look, unit
from phar_cli.core.predictions import Analysis, VideoMeta, WindowPrediction
from phar_cli.spans import Span


@dataclass
class Video:
    name: str                              # file name, also its relpath without extension
    seconds: dict[str, float]              # label -> seconds of action
    look: tuple[float, ...] | None = None  # its look vector (made unit length)
    model: str = "a" * 16                  # the look's RGB model
    content: str | None = None             # its content hash (default: its own)
    duration: float = 60.0
    size: int = 1000                       # its file's size


def look_of(video: Video) -> Look | None:
    if video.look is None:
        return None
    vector = unit(np.array(video.look, np.float32)).astype(np.float16)
    return Look(video.model, (0,), vector[None], vector, "action")


def predictions(video: Video, path: str) -> dict:
    """A predictions file whose segments give `video.seconds` (back to back from 0)."""
    windows, t = [], 0.0
    for label, s in video.seconds.items():
        windows.append(WindowPrediction(Span(t, t + s), [(label, 0.9)]))
        t += s
    if t < video.duration:
        windows.append(WindowPrediction(Span(t, video.duration), [("background", 0.9)]))
    labels = sorted({*video.seconds, "background"})
    analysis = Analysis(VideoMeta(path, video.duration, 25.0, 64, 48), labels, windows,
                        {"background": "background"}, look=look_of(video))
    data = analysis.to_dict()
    data["segments"] = [{"label": w.scores[0][0], "start": w.span.start, "end": w.span.end,
                         "score": 0.9, "coverage": 1.0} for w in windows
                        if w.scores[0][0] != "background"]
    return data


def make_library(root: Path, videos: list[Video], *, signals: bool = True) -> Path:
    """OUTDIR with every video done; `signals=False` leaves the catalog without profiles and
    looks, as a batch before them did."""
    outdir = root / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    with Catalog.open(outdir) as catalog:
        ids = catalog.plan_videos([(str(root / "videos" / f"{v.name}.mp4"), v.name, v.size, 1,
                                    v.content or f"hash-{v.name}", v.duration, "pending")
                                   for v in videos])
        run = catalog.start_run("local", 1, len(videos), 0)
        for video_id, v in zip(ids, videos):
            data = predictions(v, str(root / "videos" / f"{v.name}.mp4"))
            (outdir / f"{v.name}.json").write_bytes(orjson.dumps(data))
            catalog.done(video_id, catalog.begin(video_id, run, "analyse"), analysis_hash="a",
                         outputs_hash="o", models={}, outputs=[f"{v.name}.json"],
                         duration=v.duration, windows=1, seconds=1.0, worker="w", segments=[],
                         tags=[], profile=profile(v.duration, v.seconds), look=look_of(v))
        if not signals:
            catalog.conn.execute("DELETE FROM profile_labels")
            catalog.conn.execute("DELETE FROM profiles")
            catalog.conn.execute("DELETE FROM looks")
    return outdir


# the hand-made library of the tests: two mixes of alpha and beta, copies, gamma, nothing
LIBRARY = [
    Video("a1", {"alpha": 45, "beta": 15}, (1, 0, 0)),
    Video("a2", {"alpha": 30, "beta": 30}, (0.8, 0.6, 0)),
    Video("a3", {"alpha": 10, "beta": 40}, (0, 1, 0)),
    Video("a1-copy", {"alpha": 45, "beta": 15}, (1, 0, 0), content="hash-a1"),
    Video("g1", {"gamma": 50}, (0, 0, 1)),
    Video("g2", {"gamma": 25, "alpha": 25}, (0.6, 0, 0.8)),
    Video("quiet", {}, (0, 0.6, 0.8), duration=30),
]
