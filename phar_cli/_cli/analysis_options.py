"""The analysis options that timestamps, demo, filter and batch share (the seed's names where it
had them), and their translation into `phar_cli.core.load.engine_options`."""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from phar_cli._cli.common import STATE, Bars, err, progress_bars
from phar_cli.core.engine import EngineOptions
from phar_cli.core.fusion import DEFAULT_RULE
from phar_cli.core.profiles import PROFILES
from phar_cli.core.refine import RefineOptions
from phar_cli.core.gates import DEFAULT_LOUDNESS_THR, GateOptions
from phar_cli.defaults import DEFAULT_SUBCLIP_LEN, MIN_LAST_WINDOW, MODEL_NAMES, STREAMS
from phar_cli.errors import UsageError


def default(cls: type, name: str) -> Any:
    """A dataclass field's default: the CLI shows the library's, never a copy of it."""
    field = next(f for f in fields(cls) if f.name == name)
    return field.default


@dataclass
class AnalysisArgs:
    streams: str
    device: str
    subclip_len: float
    coefficients: Optional[str]
    pose_score_thr: float
    correct_rate: float
    loudness_weights: Optional[str]
    det_score_thr: float
    batch_size: int
    num_processes: int
    label_maps: Optional[str]
    rgb_config: Optional[Path]
    rgb_checkpoint: Optional[Path]
    skeleton_config: Optional[Path]
    skeleton_checkpoint: Optional[Path]
    audio_config: Optional[Path]
    audio_checkpoint: Optional[Path]
    det_config: Optional[Path]
    det_checkpoint: Optional[Path]
    pose_config: Optional[Path]
    pose_checkpoint: Optional[Path]
    bundle: Optional[Path] = None
    fusion: Optional[Path] = None
    threads: Optional[int] = None
    det_size: Optional[int] = None
    det_proposals: Optional[int] = None
    det_every: int = 1
    pose_every: Optional[int] = None
    precision: Optional[str] = None
    pose_model: Optional[str] = None
    skeleton_clips: Optional[int] = None
    rgb_views: Optional[int] = None
    preprocess: str = "auto"
    profile: str = "reference"
    fusion_rule: Optional[str] = None
    calibration: bool = True
    refine: bool = True
    resolution: float = RefineOptions.resolution
    snap_to_cuts: float = RefineOptions.snap_to_cuts
    stride: Optional[float] = None
    vr: str = "auto"


def _option(name: str, kind: Any, value: Any, help: str, panel: str, **extra: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=value,
                             annotation=Annotated[kind, typer.Option(help=help, rich_help_panel=panel,
                                                                     **extra)])


_E = functools.partial(default, EngineOptions)
_G = functools.partial(default, GateOptions)
ANALYSIS, FUSION, SPEED, MODELS = "Analysis", "Fusion and gates", "Speed", "Models"
BOUNDARIES = "Boundaries"
_PARAMS = [
    _option("streams", str, ",".join(STREAMS),
            f"Streams to run, comma-separated: {', '.join(STREAMS)}.", ANALYSIS),
    _option("device", str, _E("device"), "auto, cpu, cuda or cuda:N (auto: CUDA when present).",
            ANALYSIS),
    _option("subclip_len", float, DEFAULT_SUBCLIP_LEN,
            f"Window length in seconds (the last partial window is kept if >= {MIN_LAST_WINDOW:g} s).",
            ANALYSIS),
    _option("coefficients", Optional[str], None,
            "Late-fusion weights: 'rgb=W,skeleton=W,audio=W' or three numbers (rgb skeleton "
            "audio). Default: --fusion's, else the seed's rgb=0.4,skeleton=0.8,audio=1.0.", FUSION),
    _option("fusion", Optional[Path], None,
            "Fusion weights fitted by `phar train fusion` (a fusion.json).", FUSION),
    _option("fusion_rule", Optional[str], None,
            f"known: each label's weighted mean over the streams that know it; seed: the seed's "
            f"(diluted by streams that do not know a label). Default: --fusion's, else "
            f"{DEFAULT_RULE}.", FUSION),
    _option("calibration", bool, True,
            "Apply the fusion file's calibration (temperature scaling) when it has one.", FUSION),
    _option("refine", bool, _E("refine"),
            "Place each change of label to --resolution with extra windows shifted across it "
            "(--no-refine: boundaries on the window grid).", BOUNDARIES),
    _option("resolution", float, _E("resolution"),
            "Seconds to which refinement places a boundary.", BOUNDARIES),
    _option("snap_to_cuts", float, _E("snap_to_cuts"),
            "Move a refined boundary onto a shot cut this close (s; 0: never), else onto a "
            "change of the sound or picture.", BOUNDARIES),
    _option("stride", Optional[float], None,
            "Analyse overlapping windows every S seconds instead of a grid (dense, slower).",
            BOUNDARIES),
    _option("bundle", Optional[Path], None,
            "A model bundle folder (bundle.json), e.g. the one `phar train fusion` writes.", MODELS),
    _option("pose_score_thr", float, _G("pose_score_thr"),
            "Keypoint score counted as a good keypoint (skeleton gate).", FUSION),
    _option("correct_rate", float, _G("correct_rate"),
            "Fraction of good keypoints a window needs for the skeleton stream.", FUSION),
    _option("loudness_weights", Optional[str], None,
            f"Audio gate in LUFS: one number (default {DEFAULT_LOUDNESS_THR:g}, the seed's mean), "
            "'seed' for its per-class table, or 'label=LUFS,...'.", FUSION),
    _option("det_score_thr", float, _E("det_score_thr"),
            "Person detection score threshold (the seed's training setting).", FUSION),
    _option("batch_size", int, _E("batch_size"), "Windows per model batch.", ANALYSIS, min=1),
    _option("num_processes", int, _E("prefetch"),
            "Windows decoded ahead of the models (0: no overlap).", ANALYSIS, min=0),
    _option("threads", Optional[int], None,
            "Torch threads for the models (default: torch's, one per core).", SPEED, min=1),
    _option("det_size", Optional[int], None,
            "Run the person detector at this short side instead of its config's (e.g. 480 for "
            "800; faster, boxes a little coarser).", SPEED, min=32),
    _option("det_proposals", Optional[int], None,
            "Region proposals the person detector classifies per frame instead of its config's "
            "(e.g. 300 for 1000; faster, may miss a person in a crowd).", SPEED, min=1),
    _option("det_every", int, _E("det_every"),
            "Detect people on every N-th pose frame and carry their boxes between (faster; 1: "
            "every frame, the reference).", SPEED, min=1),
    _option("pose_every", Optional[int], None,
            "Run the pose model on every N-th frame of each person and interpolate the keypoints "
            f"between, inside the person's box (faster; default {_E('pose_every')}: every frame, "
            "or the profile's).", SPEED, min=1),
    _option("precision", Optional[str], None,
            f"Model arithmetic: fp32 (reference), bf16 autocast (CPU or CUDA), fp16 (CUDA) "
            f"(default {_E('precision')}, or the profile's).", SPEED),
    _option("profile", str, _E("profile"),
            f"{' or '.join(PROFILES)}: fast fills what is not given with RTMO-s poses (320 px on "
            "a CPU), 1 PoseC3D clip, 1 TimeSformer view, pose every 2nd frame, bf16 where it "
            "pays (docs/performance.md).", SPEED),
    _option("pose_model", Optional[str], None,
            "The skeleton stream's front end: faster-rcnn+hrnet (the seed's), rtmo-s, rtmo-m, "
            "rtmo-l or markers (default: the bundle's; --pose-config/--pose-checkpoint name an "
            "RTMO model's files).", MODELS),
    _option("skeleton_clips", Optional[int], None,
            "PoseC3D test clips per window (default: the config's, the seed's 10); detection and "
            "pose run only on the frames they sample.", SPEED, min=1),
    _option("rgb_views", Optional[int], None,
            "TimeSformer views per window: 1 (centre crop) or 3 (the seed's three crops; default: "
            "the config's).", SPEED, min=1, max=3),
    _option("preprocess", str, _E("preprocess"),
            "Where resizing, pose crops and heatmaps run: auto (on the GPU with CUDA), openmmlab "
            "(the CPU, the reference) or device.", SPEED),
    _option("vr", str, _E("vr"),
            "Stereo VR video: auto (a file-name marker such as _180, _LR, _SBS, _TB, _3dh; the "
            "frame's shape decides the layout), off, sbs or tb. One eye (left/top) is analysed.",
            ANALYSIS),
    _option("label_maps", Optional[str], None,
            "Label maps: 'rgb=FILE,skeleton=FILE,audio=FILE' or three files (rgb,skeleton,audio).",
            MODELS),
] + [
    _option(f"{name}_{kind}", Optional[Path], None, f"{title} {kind} (default: the bundle's).", MODELS)
    for name, title in zip(MODEL_NAMES, ("RGB model", "Skeleton model", "Audio model",
                                         "Person detector", "Pose model"))
    for kind in ("config", "checkpoint")
]

# Library option names whose CLI flag is not `--` + the name with dashes.
FLAGS = {"prefetch": "--num-processes", "weights": "--coefficients", "pose_backend": "--pose-model",
         "loudness": "--loudness-weights", "models": "--*-config/--*-checkpoint"}


def with_analysis_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the shared analysis options; it receives them as `analysis: AnalysisArgs`."""
    names = [p.name for p in _PARAMS]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        analysis = AnalysisArgs(**{n: kwargs.pop(n) for n in names})
        return func(analysis=analysis, **kwargs)

    own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "analysis"]
    wrapper.__signature__ = inspect.Signature(own + _PARAMS)  # type: ignore[attr-defined]
    return wrapper


def parse_label_maps(text: str | None) -> dict[str, str]:
    """'rgb=FILE,skeleton=FILE,audio=FILE' or three files in stream order."""
    if not text:
        return {}
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if all("=" in p for p in parts):
        maps = dict(p.split("=", 1) for p in parts)
        unknown = set(maps) - set(STREAMS)
        if unknown:
            raise UsageError(f"--label-maps: unknown stream {', '.join(sorted(unknown))}")
        return maps
    if len(parts) == len(STREAMS) and not any("=" in p for p in parts):
        return dict(zip(STREAMS, parts))
    raise UsageError("--label-maps: give 'rgb=FILE,skeleton=FILE,audio=FILE' or three files")


def engine_kwargs(a: AnalysisArgs) -> dict[str, Any]:
    """The options as `phar_cli.core.load.engine_options` takes them."""
    return dict(
        streams=tuple(s.strip().lower() for s in a.streams.split(",") if s.strip()),
        device=a.device, weights=a.coefficients or None, fusion=a.fusion,
        loudness=a.loudness_weights,
        configs={n: getattr(a, f"{n}_config") for n in MODEL_NAMES},
        checkpoints={n: getattr(a, f"{n}_checkpoint") for n in MODEL_NAMES},
        label_maps=parse_label_maps(a.label_maps),
        subclip_len=a.subclip_len, pose_score_thr=a.pose_score_thr, correct_rate=a.correct_rate,
        det_score_thr=a.det_score_thr, batch_size=a.batch_size, prefetch=a.num_processes,
        threads=a.threads, det_size=a.det_size, det_proposals=a.det_proposals,
        det_every=a.det_every, pose_every=a.pose_every, precision=a.precision,
        pose_backend=a.pose_model, skeleton_clips=a.skeleton_clips, rgb_views=a.rgb_views,
        preprocess=a.preprocess, profile=a.profile,
        fusion_rule=a.fusion_rule, calibrate=a.calibration, refine=a.refine,
        resolution=a.resolution, snap_to_cuts=a.snap_to_cuts, stride=a.stride, vr=a.vr)


def build_options(a: AnalysisArgs) -> EngineOptions:
    """The engine's options for these flags (a bundle is named on stderr)."""
    from phar_cli.core.load import engine_options
    from phar_cli.models.bundle import load_bundle

    bundle = load_bundle(a.bundle) if a.bundle else None
    if bundle and not STATE.quiet:
        err.print(f"models: {bundle.name} ({bundle.folder})", highlight=False)
    options = engine_options(bundle, **engine_kwargs(a))
    if options.profile != a.__dataclass_fields__["profile"].default and not STATE.quiet:
        size = f" at {options.det_size} px" if options.det_size else ""
        err.print(f"profile {options.profile}: {options.pose_backend} poses{size}, skeleton clips "
                  f"{options.skeleton_clips or 'as configured'}, RGB views "
                  f"{options.rgb_views or 'as configured'}, pose every {options.pose_every} "
                  f"frames, {options.precision}", highlight=False)
    return options


def analyse(video: Path, a: AnalysisArgs) -> Any:
    """`video` analysed with these flags, with progress bars."""
    from phar_cli.core.engine import Engine

    engine = Engine(build_options(a))
    with progress_bars() as progress:
        return engine.analyse(video, progress=Bars(progress))


def analysis_for(video: Path, from_json: Optional[Path], a: AnalysisArgs) -> Any:
    """The analysis of `video`: run, or read from --from-json (which must describe it)."""
    if from_json is None:
        return analyse(video, a)
    from phar_cli.core.load import predictions_for

    return predictions_for(video, from_json, subclip_len=a.subclip_len)
