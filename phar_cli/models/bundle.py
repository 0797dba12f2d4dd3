"""Which model files an analysis needs, resolved in the documented order (option, then a bundle
folder given with --bundle, then $PHAR_HOME/models, then a one-line error naming every missing file
and how to get it). Plain Python: no torch, no OpenMMLab.

A bundle folder (what `phar train fusion` writes next to the trained models) holds `bundle.json`:
`{"schema": "phar.bundle/1", "name": ..., "pose_backend": "mmpose"|"rtmo-s"|...|"markers",
  "models": {stream: {"config", "checkpoint", "labels"}}, "fusion": "fusion.json"}`, paths
relative to the folder.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson

from phar_cli.defaults import DEFAULT_BACKGROUND, DEFAULT_POSE_BACKEND
from phar_cli.errors import ModelLoadError, ModelNotFound
from phar_cli.models.pose_backends import pose_model_names
from phar_cli.models.registry import load_manifest, models_home, shipped_path


@dataclass
class ModelFiles:
    """The files one model is loaded from."""

    config: Path
    checkpoint: Path | None  # None: random weights (benchmarks only)
    labels: Path | None = None


STREAM_MODELS = {"rgb": ("rgb",), "skeleton": ("skeleton",), "audio": ("audio",)}


@dataclass
class ModelOverrides:
    """What the user gave on the command line; None means 'the bundle's'."""

    configs: dict[str, str | None] = field(default_factory=dict)
    checkpoints: dict[str, str | None] = field(default_factory=dict)
    labels: dict[str, str | None] = field(default_factory=dict)


BUNDLE_SCHEMA = "phar.bundle/1"


@dataclass
class Bundle:
    folder: Path
    name: str
    pose_backend: str
    overrides: ModelOverrides
    fusion: Path | None
    background: str = DEFAULT_BACKGROUND  # the label its models learnt for "nothing happens"


def needed_models(streams: tuple[str, ...], pose_backend: str = DEFAULT_POSE_BACKEND) -> list[str]:
    """The model files the streams load: the skeleton stream's with its front end's (det and
    pose for mmpose, rtmo-s/m/l for RTMO, none for markers)."""
    return [m for s in streams
            for m in STREAM_MODELS[s] + (pose_model_names(pose_backend) if s == "skeleton" else ())]


def load_bundle(folder: str | Path) -> Bundle:
    folder = Path(folder)
    path = folder / "bundle.json"
    try:
        data = orjson.loads(path.read_bytes())
        if data.get("schema") != BUNDLE_SCHEMA:
            raise ModelLoadError(f"{path}: not a phar bundle (schema {data.get('schema')!r})")
        models = data["models"]
        overrides = ModelOverrides(
            configs={n: str(folder / m["config"]) for n, m in models.items() if m.get("config")},
            checkpoints={n: str(folder / m["checkpoint"]) for n, m in models.items()
                         if m.get("checkpoint")},
            labels={n: str(folder / m["labels"]) for n, m in models.items() if m.get("labels")})
        fusion = folder / data["fusion"] if data.get("fusion") else None
        return Bundle(folder, str(data.get("name", folder.name)),
                      str(data.get("pose_backend", DEFAULT_POSE_BACKEND)), overrides, fusion,
                      str(data.get("background") or DEFAULT_BACKGROUND))
    except OSError as ex:
        raise ModelNotFound(f"{path}: no model bundle here ({ex.strerror or ex})") from ex
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as ex:
        raise ModelLoadError(f"{path}: not a phar bundle ({ex})") from ex


def write_bundle(folder: Path, name: str, models: dict[str, ModelFiles], pose_backend: str,
                 fusion: Path | None, background: str | None = None) -> Path:
    """Describe trained models as a bundle that `--bundle FOLDER` loads (paths kept relative to
    the folder where they are inside it)."""
    from phar_cli.atomic import atomic_write_bytes

    def rel(p: Path | None) -> str | None:
        if p is None:
            return None
        p = Path(p).resolve()
        try:
            return str(p.relative_to(folder.resolve()))
        except ValueError:
            return str(p)

    data = {"schema": BUNDLE_SCHEMA, "name": name, "pose_backend": pose_backend,
            "models": {n: {"config": rel(f.config), "checkpoint": rel(f.checkpoint),
                           "labels": rel(f.labels)} for n, f in models.items()},
            "fusion": rel(fusion)}
    if background:
        data["background"] = background
    path = folder / "bundle.json"
    atomic_write_bytes(path, orjson.dumps(data, option=orjson.OPT_INDENT_2))
    return path


def merged(first: ModelOverrides, then: ModelOverrides) -> ModelOverrides:
    """`first` wins where it gives a value (command-line options over a bundle)."""
    def pick(a: dict, b: dict) -> dict:
        return {**{k: v for k, v in b.items() if v}, **{k: v for k, v in a.items() if v}}

    return ModelOverrides(pick(first.configs, then.configs), pick(first.checkpoints, then.checkpoints),
                          pick(first.labels, then.labels))


def resolve_models(streams: tuple[str, ...], overrides: ModelOverrides,
                   pose_backend: str = DEFAULT_POSE_BACKEND) -> dict[str, ModelFiles]:
    return resolve_files(needed_models(streams, pose_backend), overrides)


def resolve_files(names: list[str], overrides: ModelOverrides) -> dict[str, ModelFiles]:
    """The files of the models called `names` (rgb, skeleton, audio, det, pose)."""
    manifest = load_manifest()
    files: dict[str, ModelFiles] = {}
    missing: list[str] = []
    for name in names:
        entry = manifest[name]
        config = overrides.configs.get(name) or entry.config_path
        labels = overrides.labels.get(name) or entry.labels_path
        option = overrides.checkpoints.get(name)
        if option:
            path = Path(option).expanduser()
            if not path.is_file():
                what = "is a directory, not a model file" if path.is_dir() else "not found"
                raise ModelNotFound(f"model file {path} given by --{name}-checkpoint {what}")
            checkpoint = path
        else:
            checkpoint = models_home() / entry.file
            if not checkpoint.is_file():
                missing.append(name)
        files[name] = ModelFiles(_project(config), checkpoint, _project(labels) if labels else None)
    if missing:
        what = ", ".join(f"{manifest[n].file} ({n})" for n in missing)
        first = manifest[missing[0]]
        raise ModelNotFound(
            f"model file{'s' if len(missing) > 1 else ''} {what} not found in {models_home()}; "
            f"run: phar models fetch {' '.join(missing)}  (or pass --{first.name}-checkpoint PATH)")
    return files


def _project(path: str | Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() or p.exists() else shipped_path(p)
