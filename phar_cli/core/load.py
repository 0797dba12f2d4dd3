"""An Engine from a bundle and options (`phar.load_engine`), and predictions read for a video.

This is where the precedence of model files and fusion weights lives, once: explicit weights,
then the fusion file given, then the bundle's, then the seed's; explicit model files, then the
bundle's, then `$PHAR_HOME/models`. The CLI, `phar batch` and the benchmarks all come through
here (`import phar_cli as phar` exports it).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from phar_cli.core.engine import Engine, EngineOptions
from phar_cli.core.fusion import DEFAULT_RULE, FusionSettings, parse_weights, read_fusion
from phar_cli.core.gates import GateOptions, parse_loudness
from phar_cli.core.predictions import Analysis, check_describes, load_predictions
from phar_cli.core.profiles import PROFILES, profile_options
from phar_cli.defaults import DEFAULT_BACKGROUND, DEFAULT_SUBCLIP_LEN, MODEL_NAMES, STREAMS
from phar_cli.errors import InvalidOption
from phar_cli.models.bundle import Bundle, ModelOverrides, load_bundle, merged, resolve_models
from phar_cli.models.pose_backends import RTMO_BACKENDS, check_backend

log = logging.getLogger("phar")
PathLike = str | os.PathLike[str]
_GATE_FIELDS = {f.name for f in fields(GateOptions)} - {"loudness_thr", "per_class_loudness"}
_ENGINE_FIELDS = {f.name for f in fields(EngineOptions)} - {
    "models", "streams", "device", "weights", "gates", "pose_backend", "fusion_rule",
    "temperatures", "background", "profile"}


def engine_options(bundle: PathLike | Bundle | None = None, *, streams: tuple[str, ...] = STREAMS,
                   device: str = "auto", weights: Mapping[str, float] | str | None = None,
                   fusion: PathLike | None = None, loudness: float | str | None = None,
                   configs: Mapping[str, PathLike | None] | None = None,
                   checkpoints: Mapping[str, PathLike | None] | None = None,
                   label_maps: Mapping[str, PathLike | None] | None = None,
                   fusion_rule: str | None = None, calibrate: bool = True,
                   pose_backend: str | None = None, profile: str = PROFILES[0],
                   **options: Any) -> EngineOptions:
    """Everything an Engine needs, resolved and checked (model files found, weights read).

    `weights`: {'rgb': 0.4, ...} or 'rgb=0.4,skeleton=0.8,audio=1'; `loudness`: the audio gate in
    LUFS, 'seed' (the seed's per-class table) or 'label=LUFS,...'; `configs`, `checkpoints`,
    `label_maps`: per model name (rgb, skeleton, audio, det, pose), None for the bundle's.
    `fusion_rule`: 'known' or 'seed' (default: the fusion file's, else 'known'); `calibrate`:
    apply the fusion file's calibration when it has one. `pose_backend`: the skeleton stream's
    front end (default: the bundle's, else the seed's mmpose; a front end other than the one the
    skeleton model was trained on is warned about). `profile`: 'fast' fills the options left
    out (None) from `core/profiles.py`.
    `options`: the gates' `pose_score_thr`, `correct_rate`, `skeleton_topk`, `audio_topk` and any
    `EngineOptions` field (`subclip_len`, `det_score_thr`, `batch_size`, `prefetch`, `threads`,
    `det_size`, `det_proposals`, `det_every`, `pose_every`, `precision`, `refine`,
    `resolution`, `snap_to_cuts`, `stride`)."""
    unknown = sorted(set(options) - _GATE_FIELDS - _ENGINE_FIELDS)
    if unknown:
        raise TypeError(f"unknown engine option(s): {', '.join(unknown)}")
    if isinstance(bundle, (str, os.PathLike)):
        bundle = load_bundle(bundle)
    streams = tuple(s.strip().lower() for s in streams if s.strip())
    try:
        loudness_thr, per_class = parse_loudness(None if loudness is None else str(loudness))
    except ValueError as ex:
        raise InvalidOption("loudness", f"{{option}}: {ex}") from ex
    gates = GateOptions(loudness_thr=loudness_thr, per_class_loudness=per_class,
                        **{k: v for k, v in options.items() if k in _GATE_FIELDS})
    overrides = ModelOverrides(
        configs={n: _str(p) for n, p in (configs or {}).items()},
        checkpoints={n: _str(p) for n, p in (checkpoints or {}).items()},
        labels={n: _str(p) for n, p in (label_maps or {}).items()})
    unknown = sorted({*overrides.configs, *overrides.checkpoints, *overrides.labels}
                     - set(MODEL_NAMES) - set(RTMO_BACKENDS))
    if unknown:
        raise InvalidOption("label_maps" if set(unknown) & set(overrides.labels) else "models",
                            f"{{option}}: unknown model {', '.join(unknown)} "
                            f"(models: {', '.join(MODEL_NAMES)})")
    trained_on = bundle.pose_backend if bundle else "mmpose"
    backend = check_backend(pose_backend or trained_on)
    options = {k: v for k, v in options.items() if v is not None}
    if profile != PROFILES[0]:
        from phar_cli.models.devices import resolve_device

        preset = profile_options(profile, resolve_device(device), backend)
        backend = backend if pose_backend else preset.pop("pose_backend", backend)
        options = {**preset, **options}
    if "skeleton" in streams and backend != trained_on:
        log.warning("the skeleton model was trained on %s poses, and is given %s poses",
                    trained_on, backend)
    if backend in RTMO_BACKENDS:  # --pose-config/--pose-checkpoint name its one model
        for table in (overrides.configs, overrides.checkpoints):
            if table.get("pose") and not table.get(backend):
                table[backend] = table.pop("pose")
    if bundle:
        overrides = merged(overrides, bundle.overrides)
    settings = _fusion(weights, fusion, bundle)
    result = EngineOptions(models={}, streams=streams, device=device, weights=settings.weights,
                           gates=gates, pose_backend=backend, profile=profile,
                           fusion_rule=fusion_rule or settings.rule or DEFAULT_RULE,
                           temperatures=settings.temperatures if calibrate else {},
                           background=bundle.background if bundle else DEFAULT_BACKGROUND,
                           **{k: v for k, v in options.items() if k in _ENGINE_FIELDS})
    result.models = resolve_models(streams, overrides, backend)
    return result


def load_engine(bundle: PathLike | Bundle | None = None, **options: Any) -> Engine:
    """An Engine ready to `analyse(path)` (models load on first use, once); `options` as
    `engine_options` takes them."""
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


def _str(path: PathLike | None) -> str | None:
    return None if path is None else str(path)


__all__ = ["engine_options", "load_engine", "predictions_for"]
