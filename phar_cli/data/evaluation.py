"""How well phar's segments agree with annotated ones: the library half of `phar eval`.

`evaluate` scores one video from two lists of labelled spans and does no I/O; `evaluate_files`
reads predictions files and an annotation file (any format `read_annotations` reads), pairs them
by video and scores each pair and all of them together. Time that no span covers means "nothing
happens", in the truth and in the prediction alike.

Why these numbers: `labelled_right` says how much of the annotated footage phar names right; the
per-class seconds say which classes it confuses; the boundary errors say how far its cuts land
from the annotated ones (what a cut list or a chapter list feels); the segment counts are the
temporal action detection figures (THUMOS'14 / ActivityNet style) papers report, so phar can be
compared with them.
"""
from __future__ import annotations

import bisect
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from phar_cli.core.labels import canonical
from phar_cli.core.predictions import Analysis, load_predictions
from phar_cli.core.segments import segments_of
from phar_cli.data.annotations import RANGE_TOLERANCE, Annotation, Problem, read_annotations
from phar_cli.defaults import VIDEO_EXTENSIONS
from phar_cli.errors import AnnotationError, EvaluationError, InvalidOption, UsageError
from phar_cli.spans import Span

DEFAULT_IOU = 0.5
DIGITS = 6
_EPS = 1e-6      # span bounds are rounded to the microsecond; never score a rounding error
_IOU_EPS = 1e-9  # an IoU computed as 0.49999999999 from bounds that give 0.5 by hand still counts


@dataclass(frozen=True)
class Labelled:
    """One labelled time range: a truth annotation or one of phar's segments."""

    label: str
    span: Span


# --- the numbers --------------------------------------------------------------------------------

def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _fmt(t: float) -> str:
    return f"{t:.3f}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), DIGITS)


@dataclass(frozen=True)
class Seconds:
    """One class's time: annotated as it, predicted as it, and both at once."""

    truth: float = 0.0
    predicted: float = 0.0
    right: float = 0.0

    @property
    def precision(self) -> float | None:
        return _ratio(self.right, self.predicted)

    @property
    def recall(self) -> float | None:
        return _ratio(self.right, self.truth)

    def __add__(self, other: Seconds) -> Seconds:
        return Seconds(self.truth + other.truth, self.predicted + other.predicted,
                       self.right + other.right)

    def to_dict(self) -> dict[str, Any]:
        return {"truth_seconds": _round(self.truth), "predicted_seconds": _round(self.predicted),
                "right_seconds": _round(self.right), "precision": _round(self.precision),
                "recall": _round(self.recall)}


@dataclass(frozen=True)
class SegmentCounts:
    """Segment detection counts: truth and predicted segments, and the matched pairs."""

    truth: int = 0
    predicted: int = 0
    matched: int = 0

    @property
    def precision(self) -> float | None:
        return _ratio(self.matched, self.predicted)

    @property
    def recall(self) -> float | None:
        return _ratio(self.matched, self.truth)

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall; None when either is undefined."""
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    def __add__(self, other: SegmentCounts) -> SegmentCounts:
        return SegmentCounts(self.truth + other.truth, self.predicted + other.predicted,
                             self.matched + other.matched)

    def to_dict(self) -> dict[str, Any]:
        return {"truth": self.truth, "predicted": self.predicted, "matched": self.matched,
                "precision": _round(self.precision), "recall": _round(self.recall),
                "f1": _round(self.f1)}


@dataclass(frozen=True)
class ClassScore:
    seconds: Seconds = Seconds()
    segments: SegmentCounts = SegmentCounts()

    def __add__(self, other: ClassScore) -> ClassScore:
        return ClassScore(self.seconds + other.seconds, self.segments + other.segments)

    def to_dict(self) -> dict[str, Any]:
        return {**self.seconds.to_dict(), "segments": self.segments.to_dict()}


@dataclass(frozen=True)
class BoundaryErrors:
    """Distances in seconds from each boundary of one list to the nearest of the other.

    `unmeasured` counts the boundaries that had nothing to be measured against (the other list
    has no boundary in that video); they get no distance rather than an invented one.
    """

    distances: tuple[float, ...] = ()
    unmeasured: int = 0

    @property
    def count(self) -> int:
        return len(self.distances)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.distances) if self.distances else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.distances) if self.distances else None

    @property
    def max(self) -> float | None:
        return max(self.distances) if self.distances else None

    def __add__(self, other: BoundaryErrors) -> BoundaryErrors:
        return BoundaryErrors(self.distances + other.distances, self.unmeasured + other.unmeasured)

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "unmeasured": self.unmeasured, "mean": _round(self.mean),
                "median": _round(self.median), "max": _round(self.max)}


@dataclass(frozen=True)
class Evaluation:
    """The scores of one video, or of several summed (`combine`).

    Only sums and counts are kept, so that the scores of several videos are the scores of their
    pooled time and segments, not a mean of per-video ratios.
    """

    iou: float
    videos: int
    duration: float                 # seconds of video scored
    annotated_seconds: float        # union of the truth spans
    right_seconds: float            # annotated seconds whose predicted label is the truth label
    classes: dict[str, ClassScore]  # every label of the truth or the prediction, sorted
    boundary_errors: BoundaryErrors          # each predicted boundary to the nearest true one
    missed_boundary_errors: BoundaryErrors   # each true boundary to the nearest predicted one

    @property
    def labelled_right(self) -> float | None:
        return _ratio(self.right_seconds, self.annotated_seconds)

    @property
    def segments(self) -> SegmentCounts:
        """Segment detection over every class together (micro: counts summed, then divided)."""
        return sum((c.segments for c in self.classes.values()), SegmentCounts())

    def to_dict(self) -> dict[str, Any]:
        return {
            "videos": self.videos,
            "duration": _round(self.duration),
            "annotated_seconds": _round(self.annotated_seconds),
            "right_seconds": _round(self.right_seconds),
            "labelled_right": _round(self.labelled_right),
            "iou": self.iou,
            "segments": self.segments.to_dict(),
            "boundary_errors": self.boundary_errors.to_dict(),
            "missed_boundary_errors": self.missed_boundary_errors.to_dict(),
            "classes": {label: score.to_dict() for label, score in self.classes.items()},
        }


def combine(evaluations: Iterable[Evaluation]) -> Evaluation:
    """Several videos as one: seconds and counts summed, boundary distances pooled."""
    items = list(evaluations)
    if not items:
        raise ValueError("no evaluation to combine")
    ious = {e.iou for e in items}
    if len(ious) != 1:
        raise ValueError(f"cannot combine evaluations at different IoU thresholds: {sorted(ious)}")
    classes: dict[str, ClassScore] = {}
    for e in items:
        for label, score in e.classes.items():
            classes[label] = classes.get(label, ClassScore()) + score
    return Evaluation(
        iou=items[0].iou,
        videos=sum(e.videos for e in items),
        duration=sum(e.duration for e in items),
        annotated_seconds=sum(e.annotated_seconds for e in items),
        right_seconds=sum(e.right_seconds for e in items),
        classes=dict(sorted(classes.items())),
        boundary_errors=sum((e.boundary_errors for e in items), BoundaryErrors()),
        missed_boundary_errors=sum((e.missed_boundary_errors for e in items), BoundaryErrors()),
    )


# --- the scorer ---------------------------------------------------------------------------------

def evaluate(truth: Sequence[Labelled], predicted: Sequence[Labelled], duration: float, *,
             iou: float = DEFAULT_IOU) -> Evaluation:
    """Score one video's predicted spans against its truth spans.

    Spans are taken in canonical label spelling; zero-length spans are ignored; a span past
    [0, duration] by more than a microsecond, or two spans of one list that overlap, raise
    ValueError. Consecutive spans of one label that touch are one segment.

    - `labelled_right`: the share of the annotated seconds (the union of the truth spans) at
      which the predicted label (None where no predicted span is) equals the truth label;
      computed exactly on the intervals between the bounds of both lists. None without annotated
      seconds.
    - per class (every label of either list): `seconds.truth` truly the class,
      `seconds.predicted` predicted as it, `seconds.right` both; precision = right / predicted,
      recall = right / truth (None when the denominator is 0).
    - boundaries: the instants strictly inside (0, duration) where the label changes, to or from
      nothing included (so a segment's two ends, or one point where two labels meet).
      `boundary_errors`: for each predicted boundary, the distance to the nearest true boundary;
      `missed_boundary_errors`: for each true boundary, the distance to the nearest predicted one
      (a boundary phar failed to place shows here). When the other list has no boundary, the
      boundaries are counted as unmeasured and get no distance.
    - segment detection, per class: every (predicted, truth) pair of segments of the class with
      IoU >= `iou` (intersection / union of the two spans; 1e-9 of slack for rounding) is a
      candidate; candidates are taken in order of decreasing IoU (ties: earlier predicted, then
      earlier truth segment first) and a pair is kept when neither segment is matched yet. Kept
      pairs are the true positives: precision = matched / predicted segments, recall = matched /
      truth segments, F1 their harmonic mean; `Evaluation.segments` sums the counts over classes
      (micro average).
    """
    duration = float(duration)
    if not duration > 0:
        raise ValueError(f"duration must be positive, not {duration}")
    if not 0 < iou <= 1:
        raise ValueError(f"IoU threshold must be in (0, 1], not {iou}")
    true_segs = _segments(truth, duration, "truth")
    pred_segs = _segments(predicted, duration, "predicted")

    true_starts, pred_starts = [s.start for s in true_segs], [s.start for s in pred_segs]
    seconds: dict[str, Seconds] = {}
    annotated = right = 0.0
    cuts = sorted({0.0, duration, *(t for s in true_segs + pred_segs for t in (s.start, s.end))})
    for a, b in zip(cuts, cuts[1:]):
        length, middle = b - a, (a + b) / 2
        t, p = _label_at(true_segs, true_starts, middle), _label_at(pred_segs, pred_starts, middle)
        same = length if t == p else 0.0
        if t is not None:
            annotated += length
            right += same
            seconds[t] = seconds.get(t, Seconds()) + Seconds(truth=length)
        if p is not None:
            seconds[p] = seconds.get(p, Seconds()) + Seconds(predicted=length, right=same)

    labels = sorted({s.label for s in true_segs + pred_segs})
    classes = {label: ClassScore(seconds.get(label, Seconds()),
                                 _detection([s for s in true_segs if s.label == label],
                                            [s for s in pred_segs if s.label == label], iou))
               for label in labels}
    true_cuts, pred_cuts = _boundaries(true_segs, duration), _boundaries(pred_segs, duration)
    return Evaluation(iou, 1, duration, annotated, right, classes,
                      _distances(pred_cuts, true_cuts), _distances(true_cuts, pred_cuts))


@dataclass(frozen=True)
class _Seg:
    label: str
    start: float
    end: float


def _segments(spans: Sequence[Labelled], duration: float, what: str) -> list[_Seg]:
    """The list as segments: checked, in time order, touching spans of one label merged."""
    items = []
    for item in spans:
        start, end = item.span.start, item.span.end
        if start < -_EPS or end > duration + _EPS:
            raise ValueError(f"{what} span '{item.label}' {_fmt(start)}–{_fmt(end)} s lies "
                             f"outside the video (0–{_fmt(duration)} s)")
        start, end = max(start, 0.0), min(end, duration)
        if end - start > _EPS:
            items.append(_Seg(canonical(item.label), start, end))
    items.sort(key=lambda s: (s.start, s.end))
    out: list[_Seg] = []
    for seg in items:
        last = out[-1] if out else None
        if last is not None and seg.start < last.end - _EPS:
            raise ValueError(f"{what} spans overlap: '{last.label}' "
                             f"{_fmt(last.start)}–{_fmt(last.end)} s and '{seg.label}' "
                             f"{_fmt(seg.start)}–{_fmt(seg.end)} s")
        if last is not None and seg.label == last.label and seg.start <= last.end + _EPS:
            out[-1] = _Seg(last.label, last.start, max(last.end, seg.end))
        else:
            out.append(seg)
    return out


def _label_at(segs: list[_Seg], starts: list[float], t: float) -> str | None:
    i = bisect.bisect_right(starts, t) - 1
    return segs[i].label if i >= 0 and t < segs[i].end else None


def _boundaries(segs: list[_Seg], duration: float) -> list[float]:
    out: list[float] = []
    for t in sorted(t for s in segs for t in (s.start, s.end)):
        if _EPS < t < duration - _EPS and not (out and t - out[-1] <= _EPS):
            out.append(t)  # one label's end and the next one's start are one boundary
    return out


def _distances(points: list[float], targets: list[float]) -> BoundaryErrors:
    if not targets:
        return BoundaryErrors((), len(points))
    out = []
    for t in points:
        i = bisect.bisect_left(targets, t)
        out.append(min(abs(t - targets[j]) for j in (i - 1, i) if 0 <= j < len(targets)))
    return BoundaryErrors(tuple(out))


def _detection(truth: list[_Seg], predicted: list[_Seg], iou: float) -> SegmentCounts:
    candidates = []
    for i, p in enumerate(predicted):
        for j, t in enumerate(truth):
            inter = min(p.end, t.end) - max(p.start, t.start)
            if inter <= 0:
                continue
            value = inter / ((p.end - p.start) + (t.end - t.start) - inter)
            if value >= iou - _IOU_EPS:
                candidates.append((-value, i, j))
    used_p: set[int] = set()
    used_t: set[int] = set()
    for _, i, j in sorted(candidates):
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
    return SegmentCounts(len(truth), len(predicted), len(used_p))


# --- files --------------------------------------------------------------------------------------

def segments_of_analysis(analysis: Analysis) -> list[Labelled]:
    """phar's answer for a video: the segments `phar timestamps` writes (refined boundaries, no
    background: its time means nothing happens, as time no annotation covers does)."""
    return [Labelled(s.label, s.span) for s in segments_of(analysis)]


@dataclass(frozen=True)
class VideoEvaluation:
    predictions: Path  # the predictions file
    video: str         # the annotation's video key it was matched to
    evaluation: Evaluation

    def to_dict(self) -> dict[str, Any]:
        return {"predictions": str(self.predictions), "video": self.video,
                **self.evaluation.to_dict()}


@dataclass(frozen=True)
class Skipped:
    """A predictions file that was not scored, and why."""

    predictions: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.predictions}: {self.reason}"


@dataclass
class FolderEvaluation:
    videos: list[VideoEvaluation]
    overall: Evaluation
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # what reading the truth reported
    unpredicted: list[str] = field(default_factory=list)   # annotated videos no file was matched to

    def to_dict(self) -> dict[str, Any]:
        return {"overall": self.overall.to_dict(),
                "videos": [v.to_dict() for v in self.videos],
                "skipped": [{"predictions": str(s.predictions), "reason": s.reason}
                            for s in self.skipped],
                "unpredicted": list(self.unpredicted),
                "problems": [{"kind": p.kind, "source": p.source, "detail": p.detail}
                             for p in self.problems]}


def evaluate_files(predictions: Sequence[Path], annotations: Path, *, video: str | None = None,
                   segments_of: Callable[[Analysis], list[Labelled]] = segments_of_analysis,
                   iou: float = DEFAULT_IOU) -> FolderEvaluation:
    """Score each predictions file against the truth of its video in `annotations`.

    A predictions file is paired with the annotated video of the same file name (with or
    without its extension; the folders are compared only to tell two of one name apart);
    `video` names the annotated video instead, for a single predictions file. A file with no
    annotated video is skipped and reported. The truth is read with the labels of the
    predictions: a truth label phar does not know is a problem reported, and its time is not
    scored. Raises EvaluationError when no file pairs with a video, AnnotationError when the
    truth cannot be read or runs past its video (by more than RANGE_TOLERANCE; less is clipped),
    UsageError on a bad `iou` or `video` given with several files.
    """
    predictions = [Path(p) for p in predictions]
    if not 0 < iou <= 1:
        raise UsageError(f"the IoU threshold must be in (0, 1], not {iou}")
    if video is not None and len(predictions) != 1:
        raise InvalidOption("video", f"names the video of one predictions file, not of "
                                     f"{len(predictions)}")
    analyses = [(path, load_predictions(path)) for path in predictions]
    labels = {canonical(label) for _, analysis in analyses for label in analysis.labels}
    annotations = Path(annotations)
    truth = read_annotations(annotations, None, labels=labels)
    if not truth.annotations:
        first = f" (first problem: {truth.problems[0]})" if truth.problems else ""
        raise AnnotationError(f"{annotations}: no usable annotation{first}")
    by_video = truth.by_video()

    results: list[VideoEvaluation] = []
    skipped: list[Skipped] = []
    taken: dict[str, Path] = {}
    for path, analysis in analyses:
        key, why = _match(video if video is not None else analysis.video.path, list(by_video),
                          exact=video is not None)
        if key is None:
            skipped.append(Skipped(path, why))
            continue
        if key in taken:
            skipped.append(Skipped(path, f"video '{key}' is already scored from {taken[key]}"))
            continue
        duration = analysis.video.duration
        spans = _truth_spans(by_video[key], duration, annotations, path)
        try:
            scores = evaluate(spans, segments_of(analysis), duration, iou=iou)
        except ValueError as ex:
            raise EvaluationError(f"{path}: {ex}") from ex
        taken[key] = path
        results.append(VideoEvaluation(path, key, scores))
    if not results:
        names = ", ".join(str(p) for p in predictions)
        keys = sorted(by_video)
        shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        raise EvaluationError(f"no predictions file matches a video annotated in {annotations} "
                              f"(predictions: {names}; annotated videos: {shown})")
    return FolderEvaluation(results, combine(r.evaluation for r in results), skipped,
                            list(truth.problems), sorted(set(by_video) - set(taken)))


def _base(name: str) -> str:
    """A file name without its video extension (`12.mp4` -> `12`; `clip.v2` stays)."""
    path = PurePosixPath(name)
    return path.stem if path.suffix.lower() in VIDEO_EXTENSIONS else path.name


def _match(wanted: str, keys: list[str], *, exact: bool) -> tuple[str | None, str]:
    """The annotated video named like `wanted`: same file name, else same base name; between
    several, the one whose folders `wanted` ends with. (None, why) when none or several fit."""
    wanted = wanted.replace("\\", "/")
    if exact and wanted in keys:
        return wanted, ""
    target = PurePosixPath(wanted)
    found = [k for k in keys if PurePosixPath(k).name == target.name]
    if not found:
        found = [k for k in keys if _base(PurePosixPath(k).name) in (target.stem, target.name)]
    if len(found) > 1:
        fits = {k: _folders_fit(PurePosixPath(k).parent.parts, target.parent.parts) for k in found}
        best = max(fits.values())
        found = [k for k in found if fits[k] == best] if best >= 0 else found
    if len(found) == 1:
        return found[0], ""
    if not found:
        return None, f"no annotated video named like '{target.name}'"
    return None, f"{len(found)} annotated videos fit '{target.name}' ({', '.join(found)})"


def _folders_fit(folders: tuple[str, ...], of: tuple[str, ...]) -> int:
    """How many folders of a video key `of` ends with; -1 when it does not end with them all."""
    if not folders:
        return 0
    return len(folders) if of[-len(folders):] == folders else -1


def _truth_spans(items: list[Annotation], duration: float, annotations: Path,
                 predictions: Path) -> list[Labelled]:
    """The video's truth; clipped when it runs past the video by less than RANGE_TOLERANCE."""
    out = []
    for ann in items:
        start, end = ann.span.start, ann.span.end
        if start < -RANGE_TOLERANCE or end > duration + RANGE_TOLERANCE or start >= duration:
            raise AnnotationError(
                f"{annotations}: '{ann.video}' {_fmt(start)}–{_fmt(end)} s '{ann.label}' lies "
                f"past the video ({_fmt(duration)} s long, by {predictions})")
        out.append(Labelled(ann.label, Span(max(start, 0.0), min(end, duration))))
    return out
