"""Defaults and lists that several layers share, each defined once here (the base layer: plain
Python, imports nothing of phar's)."""
from __future__ import annotations

STREAMS = ("rgb", "skeleton", "audio")          # the recognizers, in fusion/label-map order
POSE_MODELS = ("det", "pose")                   # the skeleton stream's front end
MODEL_NAMES = STREAMS + POSE_MODELS             # every model file a bundle names

DEFAULT_POSE_BACKEND = "mmpose"    # the skeleton's front end: the seed's Faster R-CNN + HRNet
DEFAULT_DET_SCORE_THR = 0.5        # a person box counts from this score (the seed's setting)
DEFAULT_POSE_SCORE_THR = 0.4       # a keypoint counts as good from this score (the seed's)
DEFAULT_BACKGROUND = "background"  # the label of "nothing happens" (prepare-data, analysis)
DEFAULT_SUBCLIP_LEN = 7.0   # seconds a window (and a training clip) lasts: what the seed's models saw
MIN_LAST_WINDOW = 2.0       # a trailing partial window shorter than this is not analysed

VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mkv", ".mov", ".qt", ".avi", ".webm", ".wmv", ".flv", ".mpg", ".mpeg",
    ".ts", ".m2ts", ".mts", ".3gp", ".ogv", ".vob",
})

# `phar train`: validations without improvement before training stops, where the config sets none
DEFAULT_PATIENCE = 10
