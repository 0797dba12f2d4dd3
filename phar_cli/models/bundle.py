"""Which model files an analysis needs, resolved in the documented order (option, then
$PHAR_HOME/models, then a one-line error naming every missing file and how to get it).
Plain Python: no torch, no OpenMMLab."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from phar_cli.core.engine import ModelFiles
from phar_cli.errors import ModelNotFound
from phar_cli.models.registry import PROJECT_ROOT, load_manifest, models_home

STREAM_MODELS = {"rgb": ("rgb",), "skeleton": ("skeleton", "det", "pose"), "audio": ("audio",)}
SMALL_CONFIGS = {
    "rgb": "configs/rgb/timesformer_small.py",
    "skeleton": "configs/skeleton/posec3d_small.py",
    "audio": "configs/audio/resnet_audio_small.py",
    "det": "configs/det/faster_rcnn_small.py",
    "pose": "configs/pose/hrnet_small.py",
}


@dataclass
class ModelOverrides:
    """What the user gave on the command line; None means 'the bundle's'."""

    configs: dict[str, str | None] = field(default_factory=dict)
    checkpoints: dict[str, str | None] = field(default_factory=dict)
    labels: dict[str, str | None] = field(default_factory=dict)


def needed_models(streams: tuple[str, ...]) -> list[str]:
    return [m for s in streams for m in STREAM_MODELS[s]]


def resolve_models(streams: tuple[str, ...], overrides: ModelOverrides) -> dict[str, ModelFiles]:
    manifest = load_manifest()
    files: dict[str, ModelFiles] = {}
    missing: list[str] = []
    for name in needed_models(streams):
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
    return p if p.is_absolute() or p.exists() else PROJECT_ROOT / p
