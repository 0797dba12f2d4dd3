"""A stick figure of the 17 COCO keypoints, posed over time, with each joint in its own colour.

Why: the offline demo trains the skeleton stream on synthetic media, and a person detector plus
HRNet cannot be trained in minutes on a CPU. So the figure marks every joint with a disc of a
known colour (`JOINT_COLORS`), and the "markers" pose backend (`phar_cli.synthetic.marker_poses`) finds
the discs again after encoding, giving keypoints in the shape the real backend gives.

Design choices that keep the colours recoverable after H.264 yuv420p (chroma at half
resolution): the palette holds only saturated colours from {0,128,255}^3 with one channel at 255
(no greys, no white), everything else in a synthetic frame is dark, grey or white, and each
joint disc sits inside a one-pixel black ring, so what chroma bleeds across its edge is black
(darker pixels, dropped by the detector), never a neighbour's colour. The pose geometry keeps
any two joints at least 0.12 figure heights apart, so discs never overlap (checked by the tests).

Coordinates are pixels of the display frame, x right, y down. The figure height h is 60% of
the frame height times `scale` (the joints span 0.975 h from the eyes to the ankles when
standing); `center` is where the mid-hip point sits when standing, as fractions of the frame's
width and height. Frames are taken to be landscape (a waving figure is 1.1 h wide). The figure
faces the camera: COCO's left joints are on the image's right. Every motion repeats every 2 s,
like the moving disc of `phar_cli.synthetic.video`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

KEYPOINT_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
NUM_JOINTS = len(KEYPOINT_NAMES)

# Of the 19 colours of {0,128,255}^3 with a channel at 255, all but white and the palest,
# (255,255,128): any two differ by at least 127 in some channel.
JOINT_COLORS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0),      # nose
    (0, 255, 0),      # left eye
    (0, 0, 255),      # right eye
    (255, 0, 255),    # left ear
    (0, 255, 255),    # right ear
    (255, 255, 0),    # left shoulder
    (128, 0, 255),    # right shoulder
    (255, 128, 0),    # left elbow
    (0, 128, 255),    # right elbow
    (128, 255, 0),    # left wrist
    (255, 0, 128),    # right wrist
    (0, 255, 128),    # left hip
    (255, 128, 255),  # right hip
    (128, 255, 255),  # left knee
    (255, 128, 128),  # right knee
    (128, 128, 255),  # left ankle
    (128, 255, 128),  # right ankle
)
LIMB_COLOR = (90, 90, 90)
RING_COLOR = (0, 0, 0)

# Lines of the stick figure (pairs of joint indices): the COCO skeleton, the face reduced to
# nose-eyes-ears, plus a neck from the nose to both shoulders.
LIMBS = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
    (7, 9), (8, 10), (0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (0, 6),
)
FIGURE_MOTIONS = ("wave", "squat", "sway", "jump", "still")
PERIOD = 2.0  # seconds for one full cycle of every motion
MIN_JOINT_GAP = 0.12  # in figure heights: the closest any two joints come in any motion

# Standing pose in figure heights, origin at the mid-hip point, y down. A cartoon head (eyes
# and ears spread wide) keeps the face joints apart at 160x120.
_FACE = {0: (0.0, -0.40), 1: (0.08, -0.495), 2: (-0.08, -0.495), 3: (0.19, -0.42),
         4: (-0.19, -0.42)}
_SHOULDER = (0.21, -0.28)
_HIP_X = 0.10
_KNEE_Y, _ANKLE_Y = 0.24, 0.48
_UPPER_ARM, _FOREARM = 0.17, 0.16
_ARM_REST = 25.0  # degrees from straight down, outwards
_ELBOW_BEND = 10.0  # the forearm turns this much further out than the upper arm


@dataclass(frozen=True)
class Figure:
    """A figure in a scene: its motion and where it stands (`phase` shifts its clock, s)."""

    motion: str
    center: tuple[float, float] = (0.5, 0.5)
    scale: float = 1.0
    phase: float = 0.0

    def __post_init__(self) -> None:
        if self.motion not in FIGURE_MOTIONS:
            raise ValueError(f"unknown figure motion {self.motion!r}; "
                             f"one of {', '.join(FIGURE_MOTIONS)}")
        if not self.scale > 0:
            raise ValueError(f"figure scale must be positive: {self.scale}")

    def keypoints(self, t: float, size: tuple[int, int]) -> np.ndarray:
        return figure_keypoints(self.motion, t, size, center=self.center, scale=self.scale,
                                phase=self.phase)


def as_figure(figure: Figure | str) -> Figure:
    return figure if isinstance(figure, Figure) else Figure(figure)


def figure_height(size: tuple[int, int], scale: float = 1.0) -> float:
    """The figure's unit of length in pixels: 60% of the frame height, times `scale`."""
    return 0.6 * size[1] * scale


def joint_radius(size: tuple[int, int]) -> int:
    """Radius of a joint disc for a frame of `size` (3 px at 160x120, 6 at 320x240)."""
    return max(3, round(0.025 * min(size)))


def figure_keypoints(motion: str, t: float, size: tuple[int, int], *,
                     center: tuple[float, float] = (0.5, 0.5), scale: float = 1.0,
                     phase: float = 0.0) -> np.ndarray:
    """The 17 joints (COCO order) as (17, 2) float32 pixel coordinates at time `t` seconds."""
    if motion not in FIGURE_MOTIONS:
        raise ValueError(f"unknown figure motion {motion!r}; one of {', '.join(FIGURE_MOTIONS)}")
    width, height = size
    pose = _pose(motion, t + phase)
    h = figure_height(size, scale)
    origin = np.array([center[0] * width, center[1] * height])
    return (origin + h * pose).astype(np.float32)


def _swing(t: float) -> float:
    """0 → 1 → 0 over one period, smooth at both ends."""
    return 0.5 - 0.5 * math.cos(2 * math.pi * t / PERIOD)


def _pose(motion: str, t: float) -> np.ndarray:
    s = _swing(t)
    arm = _ARM_REST
    lift = 0.0       # whole-body vertical offset (negative = up)
    hip_drop = 0.0   # squat: hips and upper body go down, ankles stay
    knee_out = 0.0
    lean = 0.0       # degrees, about the mid-ankle point
    if motion == "wave":
        arm = _ARM_REST + (130.0 - _ARM_REST) * s
    elif motion == "squat":
        hip_drop = 0.16 * s
        knee_out = 0.6 * hip_drop
    elif motion == "sway":
        lean = 12.0 * math.sin(2 * math.pi * t / PERIOD)
    elif motion == "jump":
        lift = -0.14 * s
        arm = _ARM_REST + 35.0 * s
    p = np.zeros((NUM_JOINTS, 2))
    for j, xy in _FACE.items():
        p[j] = xy[0], xy[1] + hip_drop
    for side, sign in ((0, 1.0), (1, -1.0)):  # COCO left joints first, on the image's right
        shoulder = np.array([sign * _SHOULDER[0], _SHOULDER[1] + hip_drop])
        a, b = math.radians(arm), math.radians(arm + _ELBOW_BEND)
        elbow = shoulder + _UPPER_ARM * np.array([sign * math.sin(a), math.cos(a)])
        wrist = elbow + _FOREARM * np.array([sign * math.sin(b), math.cos(b)])
        hip = np.array([sign * _HIP_X, hip_drop])
        knee = np.array([sign * (_HIP_X + knee_out), _KNEE_Y + 0.5 * hip_drop])
        ankle = np.array([sign * _HIP_X, _ANKLE_Y])
        p[5 + side], p[7 + side], p[9 + side] = shoulder, elbow, wrist
        p[11 + side], p[13 + side], p[15 + side] = hip, knee, ankle
    if lean:
        pivot = np.array([0.0, _ANKLE_Y])
        c, sn = math.cos(math.radians(lean)), math.sin(math.radians(lean))
        p = (p - pivot) @ np.array([[c, sn], [-sn, c]]) + pivot
    p[:, 1] += lift
    return p


def draw_figure(frame: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """Draw the figure into `frame` (H, W, 3) uint8 in place: grey limbs, then ringed joint discs.

    Returns the frame. Joints outside the frame are clipped away.
    """
    height, width = frame.shape[:2]
    kp = np.asarray(keypoints, dtype=np.float64)
    thick = 1 if min(width, height) < 200 else 2
    xs, ys = _limb_pixels(kp, thick)
    _put(frame, xs, ys, LIMB_COLOR)
    radius = joint_radius((width, height))
    centres = np.rint(kp).astype(np.int64)
    ring_dy, ring_dx = _disc_offsets(radius + 1)
    _put(frame, (centres[:, 0:1] + ring_dx).ravel(), (centres[:, 1:2] + ring_dy).ravel(),
         RING_COLOR)
    dy, dx = _disc_offsets(radius)
    colours = np.repeat(np.asarray(JOINT_COLORS, np.uint8), dy.shape[1], axis=0)
    _put(frame, (centres[:, 0:1] + dx).ravel(), (centres[:, 1:2] + dy).ravel(), colours)
    return frame


def _disc_offsets(radius: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    inside = xx * xx + yy * yy <= radius * radius + radius // 2  # a rounder small disc
    return yy[inside][None, :], xx[inside][None, :]


def _limb_pixels(kp: np.ndarray, thick: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixels on every limb: each sampled as often as the longest needs (one vector op)."""
    ends = kp[np.asarray(LIMBS)]                                   # (L, 2 ends, 2)
    n = int(math.ceil(np.abs(ends[:, 1] - ends[:, 0]).max())) + 1
    t = np.linspace(0.0, 1.0, n)[None, :, None]
    pts = np.rint(ends[:, :1] + t * (ends[:, 1:] - ends[:, :1])).astype(np.int64).reshape(-1, 2)
    xs, ys = pts[:, 0], pts[:, 1]
    if thick > 1:
        xs, ys = np.concatenate([xs, xs + 1, xs]), np.concatenate([ys, ys, ys + 1])
    return xs, ys


def _put(frame: np.ndarray, xs: np.ndarray, ys: np.ndarray, colour) -> None:
    height, width = frame.shape[:2]
    keep = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    colour = np.asarray(colour, np.uint8)
    frame[ys[keep], xs[keep]] = colour[keep] if colour.ndim == 2 else colour
