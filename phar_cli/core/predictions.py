"""The analysis of one video: per-window fused and per-stream scores. Its JSON is the hub that
`timestamps`, `tags`, `demo` and `filter` read."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from phar_cli.core.content import Content
from phar_cli.core.look import Look
from phar_cli.core.labels import canonical
from phar_cli.core.legacy import seed_windows
from phar_cli.defaults import DEFAULT_BACKGROUND, DEFAULT_SUBCLIP_LEN, STREAMS  # noqa: F401
from phar_cli.errors import InvalidOption, PredictionsFormatError, PredictionsMismatch
from phar_cli.spans import Span

# /2 added refinement's extra windows, shot cuts and signal changes; /2.1 the content stream;
# /2.2 the look (RGB features, `core/look.py`) and, in the JSON `timestamps` writes, the profile
SCHEMA = "phar.predictions/2.2"
READABLE = ("phar.predictions/1", "phar.predictions/2", "phar.predictions/2.1", SCHEMA)

Scores = list[tuple[str, float]]  # (label, probability), best first


def ranked(scores: dict[str, float] | Scores) -> Scores:
    """Scores as (label, p) pairs, best first; ties keep their given order (never collapse)."""
    items = list(scores.items()) if isinstance(scores, dict) else list(scores)
    return sorted(items, key=lambda kv: -kv[1])


@dataclass(frozen=True)
class VideoMeta:
    path: str
    duration: float
    fps: float
    width: int
    height: int


@dataclass
class WindowPrediction:
    span: Span
    scores: Scores                      # fused, over the analysis labels, best first
    streams: dict[str, Scores] = field(default_factory=dict)  # each stream's own labels
    used: list[str] = field(default_factory=list)
    # what the gates measured (loudness LUFS, pose_quality, people): kept for tuning the gates
    measures: dict[str, Any] = field(default_factory=dict)
    # the RGB model's pooled features, in memory only: the analysis keeps them as its `look`
    features: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.scores = ranked(self.scores)  # `top` and `topk` rely on best-first order

    @property
    def top(self) -> tuple[str, float] | None:
        return self.scores[0] if self.scores else None

    def topk(self, k: int) -> Scores:
        return self.scores[:k]


@dataclass
class Analysis:
    video: VideoMeta
    labels: list[str]
    windows: list[WindowPrediction]     # the planned windows (the grid, or every stride)
    config: dict[str, Any] = field(default_factory=dict)
    extra: list[WindowPrediction] = field(default_factory=list)  # placed by refinement
    cuts: list[float] = field(default_factory=list)              # shot cuts (s)
    changes: list[float] = field(default_factory=list)  # changes of sound, picture, movement (s)
    content: Content | None = None      # the content stream's scores and content-free time
    look: Look | None = None            # what the pictures are like to the RGB model

    @property
    def background(self) -> str | None:
        """The label of "nothing happens", when the models have one or the content stream ran
        (the analysis records its name; a label called `background` is one in files that do
        not)."""
        return self.config.get("background") or (
            DEFAULT_BACKGROUND if DEFAULT_BACKGROUND in self.labels or self.content else None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "video": dict(vars(self.video)),
            "config": self.config,
            "labels": self.labels,
            "windows": [_window(w) for w in self.windows],
            "extra_windows": [_window(w) for w in self.extra],
            "cuts": [round(t, 6) for t in self.cuts],
            "changes": [round(t, 6) for t in self.changes],
            **({"content": self.content.to_dict()} if self.content else {}),
            **({"look": self.look.to_dict()} if self.look else {}),
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<predictions>") -> Analysis:
        try:
            if data.get("schema") not in READABLE:
                raise PredictionsFormatError(
                    f"{source}: unknown predictions schema {data.get('schema')!r} (expected {SCHEMA})")
            v = data["video"]
            video = VideoMeta(str(v["path"]), float(v["duration"]), float(v["fps"]),
                              int(v["width"]), int(v["height"]))
            return cls(video, [canonical(x) for x in data["labels"]],
                       [_unwindow(w) for w in data["windows"]], dict(data.get("config", {})),
                       [_unwindow(w) for w in data.get("extra_windows", [])],
                       [float(t) for t in data.get("cuts", [])],
                       [float(t) for t in data.get("changes", [])],
                       Content.from_dict(data["content"]) if data.get("content") else None,
                       Look.from_dict(data["look"]) if data.get("look") else None)
        except PredictionsFormatError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, InvalidOption) as ex:
            raise PredictionsFormatError(f"{source}: not a phar predictions file ({type(ex).__name__}: {ex})") from ex


def _window(w: WindowPrediction) -> dict[str, Any]:
    return {"start": w.span.start, "end": w.span.end, "scores": _pairs(w.scores),
            "streams": {name: _pairs(s) for name, s in w.streams.items()},
            "used": list(w.used), "measures": dict(w.measures)}


def _unwindow(w: dict[str, Any]) -> WindowPrediction:
    return WindowPrediction(
        span=Span(float(w["start"]), float(w["end"])), scores=_unpairs(w["scores"]),
        streams={name: _unpairs(s) for name, s in w.get("streams", {}).items()},
        used=[str(u) for u in w.get("used", [])], measures=dict(w.get("measures", {})))


def _pairs(scores: Scores) -> list[dict[str, Any]]:
    return [{"label": label, "score": round(float(p), 6)} for label, p in scores]


def _unpairs(items: list[dict[str, Any]]) -> Scores:
    out = [(canonical(str(it["label"])), float(it["score"])) for it in items]
    if any(not math.isfinite(p) for _, p in out):
        raise ValueError("non-finite score")
    return ranked(out)


def analysis_from_seed_json(data: list, source: str,
                            subclip_len: float = DEFAULT_SUBCLIP_LEN) -> Analysis:
    """An Analysis from the seed's list of per-window dicts (see `legacy`); its timestamps are
    not trusted and it records no video, so the duration is the last window's end."""
    labels, windows = seed_windows(data, source, subclip_len)
    video = VideoMeta(path=source, duration=windows[-1][0].end, fps=0.0, width=0, height=0)
    return Analysis(video, labels, [WindowPrediction(span, scores) for span, scores in windows],
                    {"source": "seed-json"})


def read_json(path: Path) -> Any:
    """A predictions file's JSON as it is (PredictionsFormatError when unreadable)."""
    try:
        raw = path.read_bytes()
    except OSError as ex:
        raise PredictionsFormatError(f"{path}: cannot read ({ex.strerror or ex})") from ex
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as ex:
        raise PredictionsFormatError(f"{path}: not valid JSON ({ex})") from ex


def load_predictions(path: str | Path, subclip_len: float = DEFAULT_SUBCLIP_LEN) -> Analysis:
    """Read a phar predictions JSON, or the seed's list-of-dicts JSON (see `legacy`)."""
    path = Path(path)
    data = read_json(path)
    if isinstance(data, list):
        return analysis_from_seed_json(data, source=str(path), subclip_len=subclip_len)
    if not isinstance(data, dict):
        raise PredictionsFormatError(f"{path}: not a phar predictions file")
    return Analysis.from_dict(data, source=str(path))


def check_describes(analysis: Analysis, duration: float, fps: float, *, video: str,
                    source: str) -> None:
    """PredictionsMismatch unless `analysis` describes a video of `duration` seconds (within two
    frames or half a second; a seed JSON records only its last window's end)."""
    slack = max(0.5, 2 / fps) if fps > 0 else 0.5
    if analysis.config.get("source") == "seed-json":
        slack += max((w.span.duration for w in analysis.windows), default=0.0)
    if abs(analysis.video.duration - duration) > slack:
        raise PredictionsMismatch(f"{source}: describes a {analysis.video.duration:.2f} s video, "
                                  f"but {video} is {duration:.2f} s long; analyse it again")
