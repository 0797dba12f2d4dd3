"""The model bundle: which files phar needs, where they come from and where it looks for them.

The manifest (`configs/models.json`) names each model once (rgb, skeleton, audio, det, pose) with
its file, URL and whatever checksum the publisher gives. Lookup order for a model file: the
explicit option path, then `models_home()`, then a one-line error that says how to get it.
This module is plain Python: no torch, no OpenMMLab.
"""
from __future__ import annotations

import functools
import importlib.resources
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from phar_cli.errors import ModelLoadError, ModelNotFound


@functools.lru_cache(maxsize=None)
def config_dir() -> Path:
    """The folder of phar's shipped configs: models.json, labels/, rgb/, skeleton/, audio/, det/,
    pose/. It is the package `phar_cli.configs`: inside site-packages when phar is installed from a
    wheel, the checkout's top-level `configs/` folder in an editable install (pyproject.toml maps
    the package onto it). A checkout imported without installing (only on sys.path) has no such
    package; its `configs/` folder next to `phar_cli/` is used."""
    try:
        found = importlib.resources.files("phar_cli.configs")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "configs"
    if not isinstance(found, Path):  # mmengine reads configs from files: a zipped phar cannot run
        raise ModelLoadError(f"phar's configs are not a folder ({found}); install phar with pip")
    return found.resolve()


DEFAULT_MANIFEST = config_dir() / "models.json"

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX8 = re.compile(r"[0-9a-f]{8}")
_REQUIRED = ("name", "file", "url", "config")


@dataclass(frozen=True)
class ModelEntry:
    """One model file of the bundle, as the manifest describes it."""

    name: str
    file: str
    url: str
    sha256: str | None = None
    sha256_prefix: str | None = None
    size: int | None = None
    config: str = ""
    labels: str | None = None
    description: str = ""
    license: str = ""
    source: str = ""

    @property
    def checkpoint_option(self) -> str:
        """The CLI option that overrides this file (the seed's names: --rgb-checkpoint, ...)."""
        return f"--{self.name}-checkpoint"

    @property
    def fetch_command(self) -> str:
        return f"phar models fetch {self.name}"

    @property
    def config_path(self) -> Path:
        return shipped_path(self.config)

    @property
    def labels_path(self) -> Path | None:
        return shipped_path(self.labels) if self.labels else None

    @property
    def expected_digest(self) -> str | None:
        """What a checksum can be compared with: the full sha256, else the published prefix."""
        return self.sha256 or self.sha256_prefix


def shipped_path(rel: str | Path) -> Path:
    """A path of the manifest (or a relative one given for a model file) made absolute. The
    manifest's paths start with `configs/` (`configs/rgb/timesformer.py`): they are read relative
    to the folder that holds `config_dir()`, so they name the same files in a checkout and in an
    installed wheel."""
    p = Path(rel)
    return p if p.is_absolute() else config_dir().parent / p


def models_home() -> Path:
    """Where model files live: `$PHAR_HOME/models`, default `~/.cache/phar/models`."""
    home = os.environ.get("PHAR_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".cache" / "phar"
    return base / "models"


def _entry_from_dict(raw: dict, where: str) -> ModelEntry:
    if not isinstance(raw, dict):
        raise ModelLoadError(f"{where}: a model entry must be an object")
    missing = [k for k in _REQUIRED if not raw.get(k)]
    if missing:
        raise ModelLoadError(f"{where}: model entry {raw.get('name', '?')!r} lacks {', '.join(missing)}")
    name = str(raw["name"])
    sha256 = raw.get("sha256")
    prefix = raw.get("sha256_prefix")
    if sha256 is not None:
        sha256 = str(sha256).lower()
        if not _HEX64.fullmatch(sha256):
            raise ModelLoadError(f"{where}: model {name!r}: sha256 must be 64 hex digits or null")
    if prefix is not None:
        prefix = str(prefix).lower()
        if not _HEX8.fullmatch(prefix):
            raise ModelLoadError(f"{where}: model {name!r}: sha256_prefix must be 8 hex digits or null")
        if sha256 is not None and not sha256.startswith(prefix):
            raise ModelLoadError(f"{where}: model {name!r}: sha256 does not start with sha256_prefix")
    size = raw.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise ModelLoadError(f"{where}: model {name!r}: size must be a byte count or null")
    file = str(raw["file"])
    if Path(file).name != file:
        raise ModelLoadError(f"{where}: model {name!r}: file must be a bare file name, not {file!r}")
    return ModelEntry(
        name=name,
        file=file,
        url=str(raw["url"]),
        sha256=sha256,
        sha256_prefix=prefix,
        size=size,
        config=str(raw["config"]),
        labels=raw.get("labels") or None,
        description=str(raw.get("description", "")),
        license=str(raw.get("license", "")),
        source=str(raw.get("source", "")),
    )


def load_manifest(path: str | Path | None = None) -> dict[str, ModelEntry]:
    """Model entries by name, in manifest order. `path` defaults to the shipped manifest,
    `config_dir() / "models.json"`."""
    path = Path(path) if path is not None else DEFAULT_MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as ex:
        raise ModelLoadError(f"{path}: cannot read model manifest ({ex.strerror or ex})") from ex
    except ValueError as ex:
        raise ModelLoadError(f"{path}: model manifest is not valid JSON ({ex})") from ex
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list) or not models:
        raise ModelLoadError(f"{path}: model manifest has no 'models' list")
    entries: dict[str, ModelEntry] = {}
    for raw in models:
        entry = _entry_from_dict(raw, str(path))
        if entry.name in entries:
            raise ModelLoadError(f"{path}: model {entry.name!r} is listed twice")
        entries[entry.name] = entry
    return entries


def get_entry(name: str, manifest: dict[str, ModelEntry] | None = None) -> ModelEntry:
    """The entry called `name`; an unknown name is an error that lists the known ones."""
    manifest = load_manifest() if manifest is None else manifest
    try:
        return manifest[name]
    except KeyError:
        raise ModelNotFound(f"unknown model {name!r}; known models: {', '.join(manifest)}") from None


def find_model_file(
    name_or_path: str | Path,
    *,
    option: str | Path | None = None,
    entry: ModelEntry | None = None,
) -> Path:
    """The model file to load, found in the documented order.

    `name_or_path` is a manifest name (rgb, skeleton, ...) or a path to a checkpoint. `option` is
    the value of the model's `--<name>-checkpoint` option (None when not given). `entry` skips the
    manifest lookup of `name_or_path`.
    """
    if entry is None:
        manifest = load_manifest()
        key = str(name_or_path)
        if key in manifest:
            entry = manifest[key]
        else:
            # Not a model name: an explicit path, like whisper's load_model(name_or_path).
            path = Path(name_or_path).expanduser()
            if path.is_file():
                return path
            raise ModelNotFound(
                f"model file {path} not found (and {key!r} is not a model name; "
                f"known models: {', '.join(manifest)})"
            )

    if option is not None and str(option) != "":
        path = Path(option).expanduser()
        if path.is_file():
            return path
        what = "is a directory, not a model file" if path.is_dir() else "not found"
        raise ModelNotFound(f"model file {path} given by {entry.checkpoint_option} {what}")

    home = models_home()
    candidate = home / entry.file
    if candidate.is_file():
        return candidate
    raise ModelNotFound(
        f"model file {entry.file} ({entry.name}) not found in {home}; "
        f"run: {entry.fetch_command}  (or pass {entry.checkpoint_option} PATH)"
    )
