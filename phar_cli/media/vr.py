"""Stereo VR video: which frames hold two eyes, and the one eye phar analyses.

VR libraries store both eyes in one frame, side by side (SBS, left eye first) or top and bottom
(TB, the top one left), and say so in the file name (`scene_180_LR.mp4`, `_3dh`, `_TB`, `_OU`...).
A model shown both eyes sees every person twice and at half the width; it should see one. In
`auto` mode a file is taken for stereo only when its name carries a marker, so a plain 2:1
panorama is not cut in half unless asked (`sbs`, `tb`); the frame's shape decides the layout
where the marker does not (`_180`, `_VR`: wide frames are SBS, the rest TB).
"""
from __future__ import annotations

import re
from pathlib import Path

from phar_cli.errors import InvalidOption

VR_MODES = ("auto", "off", "sbs", "tb", "stereo")  # stereo: known to be, layout from the shape
_SBS = {"lr", "rl", "sbs", "3dh", "side", "sidebyside", "halfsbs", "fullsbs"}
_TB = {"tb", "bt", "ou", "3dv", "overunder", "topbottom", "halfou", "fullou"}
_STEREO = {"180", "180x180", "360", "vr", "vr180", "vr360", "stereo", "3d", "mkx200", "fisheye"}
_MONO = {"mono", "2d"}  # a VR video with one picture: nothing to crop
_TOKENS = re.compile(r"[a-z0-9]+")
WIDE = 1.5  # width / height from which a marked frame is taken for side by side


def check_vr(mode: str) -> str:
    if mode not in VR_MODES:
        raise InvalidOption("vr", f"{mode!r}: use one of {', '.join(VR_MODES)}")
    return mode


def stereo_layout(path: str | Path, width: int, height: int, mode: str = "auto") -> str | None:
    """'sbs', 'tb', or None (an ordinary frame) for a video of this name and display size."""
    if check_vr(mode) == "stereo":
        return "sbs" if width >= WIDE * height else "tb"
    if mode != "auto":
        return None if mode == "off" else mode
    tokens = set(_TOKENS.findall(Path(path).stem.lower()))
    if tokens & _MONO:
        return None
    if tokens & _SBS:
        return "sbs"
    if tokens & _TB:
        return "tb"
    if tokens & _STEREO:
        return "sbs" if width >= WIDE * height else "tb"
    return None


def eye_size(layout: str | None, width: int, height: int) -> tuple[int, int]:
    """(width, height) of the eye phar analyses: the left half or the top half."""
    if layout == "sbs":
        return max(1, width // 2), height
    if layout == "tb":
        return width, max(1, height // 2)
    return width, height
