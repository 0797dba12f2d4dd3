"""The demo overlay: a card with the window's top-k labels, the streams used and, where the content
stream ran, its score, and a timeline.

Why this shape: the card is white text on a semi-opaque dark box, so it reads on dark and bright
footage alike; every size is a fraction of the frame's short side, so it reads the same from
360p to 4K. The overlay only ever draws inside `regions` (the card and the strip at the bottom):
drawing goes through views of those rectangles, so the rest of each frame is the input's.
Each window's card is rendered once (alpha + colour) and blended per frame; the timeline is
rendered once and only the playhead moves.
"""
from __future__ import annotations

import bisect
import zlib
from dataclasses import dataclass

import numpy as np

from phar_cli.core.predictions import Analysis, WindowPrediction
from phar_cli.core.segments import segments_of
from phar_cli.core.timeline import timeline_of

# tab20-like: distinct on a dark card and on each other
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207), (174, 199, 232),
           (255, 187, 120), (152, 223, 138), (255, 152, 150), (197, 176, 213), (196, 156, 148),
           (247, 182, 210), (219, 219, 141), (158, 218, 229), (127, 127, 127), (199, 199, 199)]
NO_LABEL = (48, 48, 48)     # timeline where no window was analysed
TEXT = (255, 255, 255)
CARD_ALPHA = 0.70           # how dark the card's box is (0: invisible, 1: black)


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    def view(self, frame: np.ndarray) -> np.ndarray:
        return frame[self.y:self.y + self.h, self.x:self.x + self.w]


@dataclass(frozen=True)
class Layout:
    """Where and how large everything is on a `width` x `height` frame."""

    width: int
    height: int
    line: int           # text line height in pixels
    pad: int
    font_scale: float
    thickness: int
    card: Rect
    strip: Rect
    playhead: int       # playhead width in pixels

    @property
    def regions(self) -> tuple[Rect, Rect]:
        return self.card, self.strip


def label_color(label: str, labels: list[str]) -> tuple[int, int, int]:
    """A stable colour per label: by its place in the label map, else by a hash of its name."""
    index = labels.index(label) if label in labels else zlib.crc32(label.encode())
    return PALETTE[index % len(PALETTE)]


def layout(width: int, height: int, labels: list[str], topk: int, duration: float = 0.0,
           extra_rows: int = 0) -> Layout:
    """The overlay's geometry; the card is wide enough for the longest label of the map, and
    high enough for the top-k and `extra_rows` more (the content score)."""
    cv2 = _cv2()
    short = min(width, height)
    line = max(10, round(short * 0.045))
    pad = max(2, line // 4)
    thickness = max(1, round(line / 24))
    font_scale = cv2.getFontScaleFromHeight(cv2.FONT_HERSHEY_SIMPLEX, max(6, round(line * 0.6)),
                                            thickness)
    strip_h = max(4, round(short * 0.018))
    strip = Rect(0, height - strip_h, width, strip_h)
    margin = max(2, round(short * 0.02))
    widest = max([_text_width(f"{_ascii(lab)} 0.00", font_scale, thickness) + line
                  for lab in labels] + [_text_width(f"{_clock(duration)}-{_clock(duration)} "
                                                    "rgb+skeleton+audio", font_scale, thickness)])
    rows = 1 + min(topk, max(1, len(labels))) + extra_rows
    card_w = max(1, min(widest + 2 * pad, width - 2 * margin))
    card_h = max(1, min(rows * line + 2 * pad, height - strip_h - 2 * margin))
    card = Rect(min(margin, width - card_w), min(margin, height - card_h), card_w, card_h)
    return Layout(width, height, line, pad, font_scale, thickness, card, strip,
                  max(2, round(width / 400)))


class Overlay:
    """Draws one analysis onto the frames of its video, in place: `overlay.draw(frame, t)`."""

    def __init__(self, analysis: Analysis, width: int, height: int, duration: float,
                 topk: int = 3) -> None:
        self.analysis = analysis
        self.topk = topk
        self.duration = duration if duration > 0 else max(
            [w.span.end for w in analysis.windows] + [1.0])
        self.windows = timeline_of(analysis)  # the refined parts, in time order
        self._starts = [w.span.start for w in self.windows]
        self.content = analysis.content  # its score is shown on the card, second by second
        self.layout = layout(width, height, analysis.labels, topk, self.duration,
                             extra_rows=1 if self.content else 0)
        self._strip = self._render_strip()
        self._card_key: object = ()
        self._card: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def regions(self) -> tuple[Rect, Rect]:
        return self.layout.regions

    def window_at(self, t: float) -> WindowPrediction | None:
        i = bisect.bisect_right(self._starts, t) - 1
        if i >= 0 and t < self.windows[i].span.end:
            return self.windows[i]
        return None

    def draw(self, frame: np.ndarray, t: float) -> None:
        window = self.window_at(t)
        content = self.content.score_at(t) if self.content else None
        key = (id(window) if window is not None else None, content)
        if key != self._card_key:
            self._card, self._card_key = self._render_card(window, content), key
        inverse, colour = self._card
        roi = self.layout.card.view(frame)
        blended = (roi.astype(np.uint16) * inverse >> 8) + colour
        np.minimum(blended, 255, out=blended)
        roi[:] = blended
        strip = self.layout.strip.view(frame)
        strip[:] = self._strip
        x = min(self.layout.width - 1, int(t / self.duration * self.layout.width))
        half = self.layout.playhead // 2
        strip[:, max(0, x - half):x - half + self.layout.playhead] = TEXT

    def _render_strip(self) -> np.ndarray:
        lay = self.layout
        strip = np.empty((lay.strip.h, lay.width, 3), np.uint8)
        strip[:] = NO_LABEL
        for seg in segments_of(self.analysis):
            x0 = round(seg.start / self.duration * lay.width)
            x1 = round(seg.end / self.duration * lay.width)
            strip[:, x0:max(x1, x0 + 1)] = label_color(seg.label, self.analysis.labels)
        strip[:1] = (0, 0, 0)  # a dark edge keeps the strip apart from bright footage
        return strip

    def _render_card(self, window: WindowPrediction | None,
                     content: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(inverse alpha in 0..256, premultiplied colour) for the card of one window (and the
        content stream's score at this time, under the labels)."""
        cv2 = _cv2()
        lay = self.layout
        h, w = lay.card.h, lay.card.w
        colour = np.zeros((h, w, 3), np.uint8)
        cover = np.zeros((h, w), np.uint8)   # 255 where text or a swatch covers the box
        baseline = lay.pad + round(lay.line * 0.78)

        def text(s: str, x: int, y: int) -> None:
            for canvas, value in ((colour, TEXT), (cover, 255)):
                cv2.putText(canvas, _ascii(s), (x, y), cv2.FONT_HERSHEY_SIMPLEX, lay.font_scale,
                            value, lay.thickness, cv2.LINE_AA)

        if window is None:
            text("no analysis", lay.pad, baseline)
        else:
            used = "+".join(window.used) if window.used else "-"
            text(f"{_clock(window.span.start)}-{_clock(window.span.end)} {used}", lay.pad, baseline)
            nothing = window.top is not None and window.top[0] == self.analysis.background
            if nothing:
                text("nothing recognised", lay.pad, baseline + lay.line)
            for row, (label, score) in enumerate([] if nothing else window.topk(self.topk), start=1):
                y = baseline + row * lay.line
                sw = max(3, lay.line // 2)
                top = y - sw
                swatch = label_color(label, self.analysis.labels)
                colour[max(0, top):y, lay.pad:lay.pad + sw] = swatch
                cover[max(0, top):y, lay.pad:lay.pad + sw] = 255
                text(f"{label} {score:.2f}", lay.pad + sw + lay.pad, y)
        if content is not None:
            row = min(self.topk, max(1, len(self.analysis.labels))) + 1
            text(f"content {content:.2f}", lay.pad, baseline + row * lay.line)
        c = cover.astype(np.float32)[..., None] / 255.0
        alpha = CARD_ALPHA + (1 - CARD_ALPHA) * c
        inverse = np.round(256 * (1 - alpha)).astype(np.uint16)
        return inverse, colour.astype(np.uint16)  # anti-aliased on black: premultiplied


def _clock(seconds: float) -> str:
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60:02d}:{s % 60:02d}"


def _ascii(text: str) -> str:
    """OpenCV's Hershey fonts draw ASCII only; anything else shows as '?'."""
    return text.encode("ascii", "replace").decode("ascii")


def _text_width(text: str, scale: float, thickness: int) -> int:
    cv2 = _cv2()
    (w, _), _ = cv2.getTextSize(_ascii(text), cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    return w


def _cv2():
    import cv2

    return cv2
