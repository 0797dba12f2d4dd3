"""Training clips cut inside annotated segments, and the train/val split by video.

Clip rule (the seed's `generate_dataset.py`, with the step made an option):
- a segment shorter than `clip_len` gives no clip (the seed skipped such segments; a shorter
  clip would have to be padded or looped by the frame samplers);
- otherwise clips of `clip_len` start at the segment's start every `clip_len - overlap` seconds
  while they fit;
- when the footage left after the last of them is at least `min_last * clip_len` (the seed: half
  a clip), one more clip ends exactly at the segment's end, overlapping back into the one before.
A 23 s segment with 7 s clips gives 0–7, 7–14, 14–21 (2 s left < 3.5 s); a 25 s one adds
18–25.
"""
from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from phar_cli.spans import Span
from phar_cli.data.annotations import Annotation
from phar_cli.defaults import DEFAULT_SUBCLIP_LEN

DEFAULT_CLIP_LEN = DEFAULT_SUBCLIP_LEN  # a training clip is what the model sees as a window
DEFAULT_MIN_LAST = 0.5
DEFAULT_VAL_RATIO = 0.2
_TOTAL_WEIGHT = 4.0  # the overall val share weighs as much as four classes' shares
_EPS = 1e-6  # segment bounds are rounded to the microsecond; never lose a clip to a rounding error


@dataclass(frozen=True)
class Clip:
    video: str   # the annotation's video key
    span: Span
    label: str
    index: int   # running number of the clip within its video, in time order (unique per video)


def clip_spans(segment: Span, clip_len: float = DEFAULT_CLIP_LEN, overlap: float = 0.0,
               min_last: float = DEFAULT_MIN_LAST) -> list[Span]:
    """The clips of one segment (see the module's rule)."""
    _check_options(clip_len, overlap, min_last)
    if segment.duration + _EPS < clip_len:
        return []
    step = clip_len - overlap
    count = math.floor((segment.duration - clip_len) / step + _EPS) + 1
    starts = [segment.start + i * step for i in range(count)]
    rest = segment.end - (starts[-1] + clip_len)
    if rest > _EPS and rest >= min_last * clip_len - _EPS:
        starts.append(segment.end - clip_len)
    return [Span(round(s, 6), round(min(s + clip_len, segment.end), 6)) for s in starts]


def plan_clips(annotations: Iterable[Annotation], clip_len: float = DEFAULT_CLIP_LEN,
               overlap: float = 0.0, min_last: float = DEFAULT_MIN_LAST) -> list[Clip]:
    """Every clip of every annotated segment, sorted by video then time, numbered per video."""
    _check_options(clip_len, overlap, min_last)
    planned: dict[str, list[tuple[Span, str]]] = defaultdict(list)
    for ann in annotations:
        for span in clip_spans(ann.span, clip_len, overlap, min_last):
            planned[ann.video].append((span, ann.label))
    clips: list[Clip] = []
    for video in sorted(planned):
        for index, (span, label) in enumerate(sorted(planned[video],
                                                     key=lambda c: (c[0].start, c[0].end, c[1]))):
            clips.append(Clip(video, span, label, index))
    return clips


def _check_options(clip_len: float, overlap: float, min_last: float) -> None:
    if not clip_len > 0:
        raise ValueError(f"clip length must be positive, not {clip_len}")
    if not 0 <= overlap < clip_len:
        raise ValueError(f"overlap must be at least 0 and shorter than the clip ({clip_len} s), "
                         f"not {overlap}")
    if not 0 <= min_last <= 1:
        raise ValueError(f"min_last is a fraction of the clip length, 0 to 1, not {min_last}")


def split_by_video(clips: Sequence[Clip], val_ratio: float = DEFAULT_VAL_RATIO, seed: int = 0
                   ) -> tuple[list[Clip], list[Clip]]:
    """(train, val): every clip of a video on one side, in the order given.

    See `val_videos` for which videos go to val.
    """
    chosen = val_videos(clips, val_ratio, seed)
    train = [c for c in clips if c.video not in chosen]
    val = [c for c in clips if c.video in chosen]
    return train, val


def val_videos(clips: Iterable[Clip], val_ratio: float = DEFAULT_VAL_RATIO, seed: int = 0
               ) -> set[str]:
    """The videos of the validation side: a seeded, stratified, greedy choice of whole videos.

    The result depends only on the clips' (video, label) counts and the seed, not on their order.
    Aim: every class's share of clips in val, and the share of all clips, close to `val_ratio`.
    The cost of a choice is the sum over classes of (class val share - ratio)^2 plus 4 x
    (overall val share - ratio)^2; only classes with clips in 2 or more videos count.
    1. The videos are sorted by name and shuffled with `random.Random(seed)`.
    2. Cover: for each class, rarest first (fewest videos), that has clips in at least 2 videos
       and no video in val yet, the one of its videos that leaves the lowest cost moves to val
       (ties: the first in the shuffled order).
    3. Improve: the videos are walked in the shuffled order; a train video moves to val, or a
       val video back to train, when that lowers the cost (a video goes back only if every class
       it holds keeps clips in val); the walk repeats until a whole walk changes nothing (at
       most 5 walks).
    4. With 2 or more videos and `val_ratio > 0`, val is never left empty: the smallest video
       that keeps every class in train moves, or the smallest of all when none does (the one
       case where a class can end up with no train clips: every video holds a class found in no
       other video).
    Throughout steps 2-3 a video moves to val only if every class it holds keeps a video in
    train. So every class keeps train clips, and each class with clips in 2 or more videos is in
    val unless each of its videos also holds the last train video of some class; a class seen
    in one video only stays in train. The seed changes the walk order, so different seeds give
    different splits; the same seed always gives the same one.
    """
    if not 0 <= val_ratio < 1:
        raise ValueError(f"val ratio must be at least 0 and below 1, not {val_ratio}")
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for clip in clips:
        counts[clip.video][clip.label] += 1
    videos = sorted(counts)
    random.Random(seed).shuffle(videos)
    if val_ratio == 0 or len(videos) < 2:
        return set()
    size = {v: sum(counts[v].values()) for v in videos}
    total = sum(size.values())
    holders: dict[str, list[str]] = defaultdict(list)  # class -> its videos, in shuffled order
    class_total: Counter[str] = Counter()
    for video in videos:
        class_total.update(counts[video])
        for label in counts[video]:
            holders[label].append(video)
    in_train = {label: len(vs) for label, vs in holders.items()}
    val: set[str] = set()
    val_class: Counter[str] = Counter()
    val_total = 0

    def movable(video: str) -> bool:
        return video not in val and all(in_train[label] >= 2 for label in counts[video])

    def gain(video: str, sign: int = 1) -> float:
        """How much moving `video` to val (sign 1) or back (-1) changes the cost (< 0: better)."""
        out = 0.0
        for label, n in counts[video].items():
            if len(holders[label]) >= 2:
                before = val_class[label] / class_total[label] - val_ratio
                after = (val_class[label] + sign * n) / class_total[label] - val_ratio
                out += after * after - before * before
        before = val_total / total - val_ratio
        after = (val_total + sign * size[video]) / total - val_ratio
        return out + _TOTAL_WEIGHT * (after * after - before * before)

    def move(video: str, sign: int = 1) -> None:
        """To val (sign 1) or back to train (sign -1)."""
        nonlocal val_total
        if sign > 0:
            val.add(video)
        else:
            val.discard(video)
        val_total += sign * size[video]
        for label, n in counts[video].items():
            val_class[label] += sign * n
            in_train[label] -= sign

    def returnable(video: str) -> bool:
        """Back to train without leaving a covered class out of val."""
        return all(val_class[label] > n or len(holders[label]) < 2
                   for label, n in counts[video].items())

    for label in sorted(holders, key=lambda lab: (len(holders[lab]), lab)):
        if len(holders[label]) < 2 or any(v in val for v in holders[label]):
            continue
        candidates = [v for v in holders[label] if movable(v)]
        if candidates:
            move(min(candidates, key=gain))

    for _ in range(5):
        moved = False
        for video in videos:
            if movable(video) and gain(video) < -1e-12:
                move(video)
                moved = True
            elif video in val and returnable(video) and gain(video, -1) < -1e-12:
                move(video, -1)
                moved = True
        if not moved:
            break

    if not val:
        candidates = [v for v in videos if movable(v)] or videos
        move(min(candidates, key=lambda v: size[v]))
    return val


def uncovered(covered: Iterable[Span], duration: float, margin: float = 0.0) -> list[Span]:
    """The stretches of [0, duration] that no span in `covered` touches, kept `margin` seconds
    away from every span (the video's own ends need no margin)."""
    spans = sorted(covered)
    gaps, t = [], 0.0
    for span in spans:
        start, end = t, span.start - margin
        if end - start > _EPS:
            gaps.append(Span(round(start, 6), round(end, 6)))
        t = max(t, span.end + margin)
    if duration - t > _EPS:
        gaps.append(Span(round(t, 6), round(duration, 6)))
    return gaps


def background_clips(covered: dict[str, list[Span]], durations: dict[str, float], label: str, *,
                     clip_len: float = DEFAULT_CLIP_LEN, margin: float = 1.0,
                     limit: int | None = None, seed: int = 0,
                     first_index: dict[str, int] | None = None) -> list[Clip]:
    """Clips of `label` in the time annotations leave out: each video's uncovered stretches
    (`uncovered`, `margin` from every annotation) cut like any segment (`clip_spans`), no overlap.
    At most `limit` are kept, drawn with `random.Random(seed)` so the choice spreads over the
    videos; they are numbered per video from `first_index[video]` on (after its action clips)."""
    found: list[tuple[str, Span]] = []
    for video in sorted(covered):
        for gap in uncovered(covered[video], durations[video], margin):
            found += [(video, span) for span in clip_spans(gap, clip_len)]
    if limit is not None and len(found) > limit:
        keep = sorted(random.Random(seed).sample(range(len(found)), limit))
        found = [found[i] for i in keep]
    counter = dict(first_index or {})
    clips = []
    for video, span in found:
        index = counter.get(video, 0)
        counter[video] = index + 1
        clips.append(Clip(video, span, label, index))
    return clips
