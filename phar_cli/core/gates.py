"""The seed's gates: when a window is worth the skeleton and audio streams.

skeleton: one of the skeleton model's labels is in the RGB top 3, and the poses are good enough
(keypoint score >= pose_score_thr on at least correct_rate of all keypoints, over people and frames).
audio: one of the audio model's labels is in the RGB top 2, and the window is loud enough
(integrated loudness above the threshold: one number, or per class for the RGB top label).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from phar_cli.core.labels import canonical
from phar_cli.core.predictions import Scores
from phar_cli.defaults import DEFAULT_POSE_SCORE_THR
from phar_cli.errors import InvalidOption

# The seed's db_20 per-class loudness thresholds (LUFS); their mean is its single default gate.
SEED_LOUDNESS = {
    "anal": -46.23, "deepthroat": -45.69, "doggy": -48.04, "blowjob": -53.72, "cumshot": -45.03,
    "cunnilingus": -48.73, "miscellaneous": -49.02, "kissing": -51.1,
}
DEFAULT_LOUDNESS_THR = round(sum(SEED_LOUDNESS.values()) / len(SEED_LOUDNESS), 3)  # -48.445


@dataclass
class GateOptions:
    skeleton_topk: int = 3
    audio_topk: int = 2
    pose_score_thr: float = DEFAULT_POSE_SCORE_THR
    correct_rate: float = 0.35
    loudness_thr: float = DEFAULT_LOUDNESS_THR
    per_class_loudness: dict[str, float] = field(default_factory=dict)  # label -> LUFS

    def __post_init__(self) -> None:
        for name in ("pose_score_thr", "correct_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidOption(name, f"must be between 0 and 1 (got {value})")


def label_in_topk(rgb_scores: Scores, labels: Iterable[str], k: int) -> bool:
    wanted = {canonical(x) for x in labels}
    return any(canonical(label) in wanted for label, _ in rgb_scores[:k])


def pose_quality(keypoint_scores: np.ndarray, score_thr: float) -> float:
    """Fraction of keypoints (over people, frames, joints) scoring at least `score_thr`."""
    scores = np.asarray(keypoint_scores, dtype=np.float32)
    return float((scores >= score_thr).mean()) if scores.size else 0.0


def loudness_threshold(rgb_scores: Scores, options: GateOptions) -> float:
    """The per-class threshold of the RGB top label when the table has it, else the global one."""
    if options.per_class_loudness and rgb_scores:
        return options.per_class_loudness.get(canonical(rgb_scores[0][0]), options.loudness_thr)
    return options.loudness_thr


def loud_enough(loudness: float, rgb_scores: Scores, options: GateOptions) -> bool:
    return loudness >= loudness_threshold(rgb_scores, options)


def parse_loudness(text: str | None) -> tuple[float, dict[str, float]]:
    """`--loudness-weights`: one number (LUFS), 'seed' (the seed's per-class table), or
    'label=LUFS,...' (classes not listed use the seed's mean)."""
    if text is None or not text.strip():
        return DEFAULT_LOUDNESS_THR, {}
    text = text.strip()
    if text == "seed":
        return DEFAULT_LOUDNESS_THR, dict(SEED_LOUDNESS)
    if "=" not in text:
        return float(text), {}
    table = {}
    for part in text.split(","):
        name, value = part.split("=", 1)
        table[canonical(name)] = float(value)
    return DEFAULT_LOUDNESS_THR, table


def skeleton_wanted(rgb_scores: Scores, skeleton_labels: list[str], options: GateOptions) -> bool:
    return label_in_topk(rgb_scores, skeleton_labels, options.skeleton_topk)


def audio_wanted(rgb_scores: Scores, audio_labels: list[str], options: GateOptions) -> bool:
    return label_in_topk(rgb_scores, audio_labels, options.audio_topk)


def as_mapping(options: GateOptions) -> Mapping[str, object]:
    return dict(vars(options))
