"""An Engine from a bundle and options (`phar.load_engine`), and predictions read for a video.

This is where the precedence of model files and fusion weights lives, once: explicit weights,
then the fusion file given, then the bundle's, then the seed's; explicit model files, then the
bundle's, then `$PHAR_HOME/models`. The CLI, `phar batch` and the benchmarks all come through
here (`import phar_cli as phar` exports it).
"""
from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any

from phar_cli.core.engine import Engine, EngineOptions, analysis_labels
from phar_cli.core.fusion import DEFAULT_RULE, FusionSettings, parse_weights, read_fusion
from phar_cli.core.gates import GateOptions, parse_loudness
from phar_cli.core.labels import read_label_map
from phar_cli.core.options import AnalysisOptions, defaults, option_table
from phar_cli.core.predictions import Analysis, check_describes, load_predictions
from phar_cli.core.profiles import DEFAULT_PROFILE, check_profile, profile_options
from phar_cli.defaults import (DEFAULT_BACKGROUND, DEFAULT_POSE_BACKEND, DEFAULT_SUBCLIP_LEN,
                               MODEL_NAMES, STREAMS)
from phar_cli.errors import InvalidOption
from phar_cli.models.bundle import Bundle, ModelOverrides, load_bundle, merged, resolve_models
from phar_cli.models.pose_backends import RTMO_BACKENDS, check_backend

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

log = logging.getLogger("phar")
PathLike = str | os.PathLike[str]
_GATE_FIELDS = {f.name for f in fields(GateOptions)} - {"loudness_thr", "per_class_loudness"}
# The table's options that EngineOptions takes as they are (the rest are resolved here).
_PLAIN = (set(option_table()) & {f.name for f in fields(EngineOptions)}) - {
    "streams", "weights", "pose_backend", "fusion_rule", "content"}


def engine_options(bundle: PathLike | Bundle | None = None,
                   **given: Unpack[AnalysisOptions]) -> EngineOptions:
    """Everything an Engine needs, resolved and checked (model files found, weights read).

    The options are the table's (`phar_cli.core.options.AnalysisOptions`, where each is
    described), by keyword. `weights`: {'rgb': 0.4, ...} or 'rgb=0.4,skeleton=0.8,audio=1';
    `loudness`: LUFS, 'seed' or 'label=LUFS,...'; `configs`, `checkpoints`, `label_maps`: per
    model name (rgb, skeleton, audio, det, pose), None for the bundle's. A front end other than
    the one the skeleton model was trained on is warned about. `profile`: 'fast' fills the
    options left out (None) for the device, see `for_device`."""
    unknown = sorted(set(given) - set(option_table()))
    if unknown:
        raise TypeError(f"unknown engine option(s): {', '.join(unknown)}")
    o: dict[str, Any] = {**defaults(), **given}
    streams = _streams(o["streams"])
    label_maps = o["label_maps"]
    if isinstance(label_maps, str):
        label_maps = parse_label_maps(label_maps)
    if isinstance(bundle, (str, os.PathLike)):
        bundle = load_bundle(bundle)
    try:
        loudness_thr, per_class = parse_loudness(None if o["loudness"] is None
                                                 else str(o["loudness"]))
    except ValueError as ex:
        raise InvalidOption("loudness", f"{{option}}: {ex}") from ex
    gates = GateOptions(loudness_thr=loudness_thr, per_class_loudness=per_class,
                        **{k: v for k, v in o.items() if k in _GATE_FIELDS})
    overrides = ModelOverrides(
        configs={n: _str(p) for n, p in (o["configs"] or {}).items()},
        checkpoints={n: _str(p) for n, p in (o["checkpoints"] or {}).items()},
        labels={n: _str(p) for n, p in (label_maps or {}).items()})
    unknown = sorted({*overrides.configs, *overrides.checkpoints, *overrides.labels}
                     - set(MODEL_NAMES) - set(RTMO_BACKENDS))
    if unknown:
        raise InvalidOption("label_maps" if set(unknown) & set(overrides.labels) else
                            "checkpoints" if set(unknown) & set(overrides.checkpoints) else "configs",
                            f"{{option}}: unknown model {', '.join(unknown)} "
                            f"(models: {', '.join(MODEL_NAMES)})")
    trained_on = bundle.pose_backend if bundle else DEFAULT_POSE_BACKEND
    pose_backend = o["pose_backend"]
    backend = check_backend(pose_backend or trained_on)
    plain = {k: v for k, v in o.items() if k in _PLAIN and v is not None}
    preset = _preset(check_profile(o["profile"]), o["device"], backend, given=plain)
    if pose_backend:
        preset.pop("pose_backend", None)
    backend = preset.pop("pose_backend", backend)
    from_profile = sorted(preset) + (["pose_backend"] if backend != (pose_backend or trained_on)
                                     else [])
    if "skeleton" in streams and backend != trained_on:
        log.warning("the skeleton model was trained on %s poses, and is given %s poses",
                    trained_on, backend)
    if backend in RTMO_BACKENDS:  # --pose-config/--pose-checkpoint name its one model
        for table in (overrides.configs, overrides.checkpoints):
            if table.get("pose") and not table.get(backend):
                table[backend] = table.pop("pose")
    if bundle:
        overrides = merged(overrides, bundle.overrides)
    settings = _fusion(o["weights"], o["fusion"], bundle)
    result = EngineOptions(models={}, **{**plain, **preset}, streams=streams,
                           weights=settings.weights, gates=gates, pose_backend=backend,
                           fusion_rule=o["fusion_rule"] or settings.rule or DEFAULT_RULE,
                           temperatures=settings.temperatures if o["calibrate"] else {},
                           background=bundle.background if bundle else DEFAULT_BACKGROUND,
                           from_profile=tuple(from_profile))
    result.models = resolve_models(streams, overrides, backend)
    result.content = content_runs(o["content"], result)
    return result


def content_runs(wanted: bool | None, options: EngineOptions) -> bool:
    """Whether the content stream runs: as asked, else where the action models have no
    background class and its package is installed (core/content.py)."""
    from phar_cli.models.content import content_available, require_content

    if wanted is not None:
        if wanted:
            require_content()
        return wanted
    labels = {s: read_label_map(options.models[s].labels) for s in options.streams}
    if options.background in analysis_labels(labels, options.streams):
        return False
    if not content_available():
        _say_no_content()
        return False
    return True


@functools.cache
def _say_no_content() -> None:
    log.info("the content stream is not installed (pip install 'phar[content]'): time without "
             "sexual content is not told apart")


def for_device(options: EngineOptions, device: str | None = None) -> EngineOptions:
    """`options` with the profile's presets made for `device` (default: the options' own),
    resolved where it runs: a `phar batch` driver checks the options on its CPU, and each
    worker makes them for its own GPU or CPU."""
    if not options.from_profile:
        return options
    device = options.device if device is None else device
    # The front end the profile replaced (its model files were found by the driver) stays.
    before = DEFAULT_POSE_BACKEND if "pose_backend" in options.from_profile else options.pose_backend
    preset = _preset(options.profile, device, before, given={})
    preset.pop("pose_backend", None)
    return replace(options, device=device,
                   **{k: v for k, v in preset.items() if k in options.from_profile})


def _preset(profile: str, device: str, backend: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """What `profile` fills on `device`: the options not given."""
    if profile == DEFAULT_PROFILE:
        return {}
    from phar_cli.models.devices import resolve_device

    preset = profile_options(profile, resolve_device(device), backend)
    return {k: v for k, v in preset.items() if k not in given}


def load_engine(bundle: PathLike | Bundle | None = None,
                **options: Unpack[AnalysisOptions]) -> Engine:
    """An Engine ready to `analyse(path)` (models load on first use, once); `options` as
    `engine_options` takes them (the table in `phar_cli.core.options`)."""
    return Engine(engine_options(bundle, **options))


def predictions_for(video: PathLike, predictions: PathLike, *,
                    subclip_len: float = DEFAULT_SUBCLIP_LEN) -> Analysis:
    """A predictions file read for `video`: it must describe a video of this length (a JSON of
    another video would cut or label nonsense)."""
    from phar_cli.media.probe import probe

    analysis = load_predictions(predictions, subclip_len=subclip_len)
    info = probe(video)
    check_describes(analysis, info.duration, float(info.fps), video=str(video),
                    source=str(predictions))
    return analysis


def _fusion(weights: Mapping[str, float] | str | None, fusion: PathLike | None,
            bundle: Bundle | None) -> FusionSettings:
    """Weights given win over the fusion file's (the one given, else the bundle's); its rule and
    calibration hold either way."""
    fusion = fusion or (bundle.fusion if bundle else None)
    settings = read_fusion(fusion) if fusion else FusionSettings(parse_weights(""))
    try:
        if isinstance(weights, str):
            return replace(settings, weights=parse_weights(weights))
        if weights is not None:
            return replace(settings, weights={**parse_weights(""),
                                              **{str(k): float(v) for k, v in weights.items()}})
    except ValueError as ex:
        raise InvalidOption("weights", f"{{option}}: {ex}") from ex
    return settings


def _streams(streams: Sequence[str] | str) -> tuple[str, ...]:
    """('rgb', 'audio') or 'rgb,audio'."""
    items = streams.split(",") if isinstance(streams, str) else streams
    return tuple(s.strip().lower() for s in items if s.strip())


def parse_label_maps(text: str | None) -> dict[str, str]:
    """'rgb=FILE,skeleton=FILE,audio=FILE' or three files in stream order."""
    if not text:
        return {}
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if all("=" in p for p in parts):
        maps = dict(p.split("=", 1) for p in parts)
        unknown = set(maps) - set(STREAMS)
        if unknown:
            raise InvalidOption("label_maps", f"{{option}}: unknown stream "
                                              f"{', '.join(sorted(unknown))}")
        return maps
    if len(parts) == len(STREAMS) and not any("=" in p for p in parts):
        return dict(zip(STREAMS, parts))
    raise InvalidOption("label_maps", "{option}: give 'rgb=FILE,skeleton=FILE,audio=FILE' or "
                                      "three files")


def _str(path: PathLike | None) -> str | None:
    return None if path is None else str(path)


__all__ = ["engine_options", "for_device", "load_engine", "predictions_for"]
