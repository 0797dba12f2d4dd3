"""What a run has to do: for each input, `skip` (done, unchanged), `render` (analysis unchanged,
outputs missing or asked for differently: rewritten from its predictions JSON, no model runs) or
`analyse`.

"Unchanged" means the same file (same size, and same mtime or, when the mtime moved, the same
SHA-256 of the first and last MiB) analysed with the same analysis options and the same model
files. Hashing only when the size or mtime moved keeps a rerun over a large library cheap (it
reads 2 MiB of a file only when the file looks touched); `rehash` hashes every file.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from phar_cli.batch.catalog import Catalog, VideoRow
from phar_cli.batch.inputs import BatchInput
from phar_cli.batch.outputs import OutputOptions, outputs_present
from phar_cli.core.engine import (CONTENT_SETTINGS, LEGACY_VALUES, SCORE_CHANGING_SPEED_OPTIONS,
                                  EngineOptions)
from phar_cli.core.options import speed_only
from phar_cli.models.download import sha256_file

MIB = 1 << 20
# Options that change how fast an analysis runs, not what it finds, are not part of its identity
# (the options table says which; the device's pre-processing equals OpenMMLab's within rounding),
# nor are the model files' paths (they count by content) or what the profile filled in (the
# profile's name counts: its presets are made for each worker's device).
_NOT_IDENTITY = speed_only() | {"models", "from_profile"}
# Speed options that do change scores are left out at their reference values, and options added
# later at the values that reproduce what came before them, so a catalog made before they existed
# keeps its hash (and is not re-analysed) where the results would be the same.
_IDENTITY_WHEN_SET = {**SCORE_CHANGING_SPEED_OPTIONS, **LEGACY_VALUES}


@dataclass
class PlanItem:
    input: BatchInput
    video_id: int
    action: str                  # skip | render | analyse
    duration: float | None       # seconds, from the catalog or a quick header probe
    source: Path | None = None   # render: the predictions JSON to render from


@dataclass
class Plan:
    items: list[PlanItem]
    analysis_hash: str
    outputs_hash: str
    models: dict[str, Any]

    def count(self, action: str) -> int:
        return sum(1 for i in self.items if i.action == action)

    def seconds(self, action: str) -> float:
        return sum(i.duration or 0.0 for i in self.items if i.action == action)


def head_tail_hash(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's size, first MiB and last MiB: cheap on huge videos, and it changes
    when a file is re-encoded, replaced or cut even if its size and mtime were kept."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        digest.update(size.to_bytes(8, "little"))
        digest.update(f.read(MIB))
        if size > 2 * MIB:
            f.seek(size - MIB)
            digest.update(f.read(MIB))
        elif size > MIB:
            digest.update(f.read())
    return digest.hexdigest()


def analysis_identity(options: EngineOptions) -> tuple[str, str, dict[str, Any]]:
    """(hash, JSON, model paths) of what decides an analysis' result: every engine option but
    the speed ones (the content stream's settings only where it runs: whether it runs is
    resolved before, from the models and the install), and each model file by content (configs
    and label maps whole, checkpoints by name, size and head/tail hash), so moving $PHAR_HOME
    does not redo a library."""
    data: dict[str, Any] = {}
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        if f.name in _NOT_IDENTITY or f.name in options.from_profile or (
                f.name in _IDENTITY_WHEN_SET and value == _IDENTITY_WHEN_SET[f.name]) or (
                f.name in CONTENT_SETTINGS and not options.content):
            continue
        data[f.name] = _plain(value)
    models: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for name, files in sorted(options.models.items()):
        ckpt = files.checkpoint
        models[name] = {
            "config": _config_sha(Path(files.config)),
            "labels": _file_sha(files.labels) if files.labels else None,
            "checkpoint": ({"name": Path(ckpt).name, "size": os.path.getsize(ckpt),
                            "head_tail": head_tail_hash(ckpt)} if ckpt else None),
        }
        paths[name] = {"config": str(files.config), "checkpoint": str(ckpt) if ckpt else None,
                       "labels": str(files.labels) if files.labels else None}
    data["models"] = models
    text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
    return hashlib.sha256(text.encode()).hexdigest()[:16], text, paths


def make_plan(inputs: list[BatchInput], catalog: Catalog, outdir: Path, engine: EngineOptions,
              outputs: OutputOptions, *, rehash: bool = False,
              scanned: Callable[[int, int], None] | None = None) -> Plan:
    """Decide each input's action and record it (fingerprint, duration, pending) in the catalog."""
    analysis_hash, analysis_json, model_paths = analysis_identity(engine)
    outputs_hash, outputs_json = outputs.digest()
    with catalog.transaction():
        catalog.put_options(analysis_hash, analysis_json)
        catalog.put_options(outputs_hash, outputs_json)
    catalog.forget_gone({str(i.path) for i in inputs})
    rows = catalog.videos()
    facts = _scan(inputs, rows, rehash, scanned)
    actions, rows_out = [], []
    for item, (size, mtime_ns, head_tail, duration, same) in zip(inputs, facts):
        row = rows.get(str(item.path))
        action, source = "analyse", None
        if row is not None and same and row.status == "done" and row.analysis_hash == analysis_hash:
            files = outputs.files(item.relpath)
            if row.outputs_hash == outputs_hash and row.outputs == files and outputs_present(outdir, files):
                action = "skip"
            else:
                previous = outdir / f"{row.relpath}.json"
                if f"{row.relpath}.json" in row.outputs and previous.is_file():
                    action, source = "render", previous
        actions.append((action, source, duration))
        rows_out.append((str(item.path), str(item.relpath), size, mtime_ns, head_tail, duration,
                         "done" if action == "skip" else "pending"))
    ids = catalog.plan_videos(rows_out)
    items = [PlanItem(item, video_id, action, duration, source)
             for item, video_id, (action, source, duration) in zip(inputs, ids, actions)]
    return Plan(items, analysis_hash, outputs_hash, model_paths)


def _scan(inputs: list[BatchInput], rows: dict[str, VideoRow], rehash: bool,
          scanned: Callable[[int, int], None] | None) -> list[tuple[Any, ...]]:
    """Per input: (size, mtime_ns, head/tail hash, duration, same file as catalogued?). Files are
    read in a few threads: hashing and the header probe are I/O and ffmpeg, not Python."""
    done = 0
    lock = threading.Lock()

    def one(item: BatchInput) -> tuple[Any, ...]:
        row = rows.get(str(item.path))
        try:
            st = os.stat(item.path)
        except OSError:
            return (None, None, None, None, False)  # the worker reports the problem
        size, mtime_ns = st.st_size, st.st_mtime_ns
        known = row is not None and row.size == size and row.head_tail is not None
        if known and row.mtime_ns == mtime_ns and not rehash:
            return (size, mtime_ns, row.head_tail, row.duration, True)
        try:
            head_tail = head_tail_hash(item.path)
        except OSError:
            return (size, mtime_ns, None, None, False)
        same = known and head_tail == row.head_tail
        duration = row.duration if same else _probe_duration(item.path)
        return (size, mtime_ns, head_tail, duration, same)

    def counted(item: BatchInput) -> tuple[Any, ...]:
        nonlocal done
        result = one(item)
        with lock:
            done += 1
            if scanned:
                scanned(done, len(inputs))
        return result

    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
        return list(pool.map(counted, inputs))


def _probe_duration(path: Path) -> float | None:
    """The container's duration from `ffmpeg -i` (fast; no decoding): for the hours bar and ETA."""
    from phar_cli.media.probe import read_header

    try:
        if os.path.getsize(path) == 0:
            return None
        return read_header(path).duration
    except Exception:  # noqa: BLE001 - a broken file is the worker's to report
        return None


_BASE = re.compile(r"^_base_\s*=\s*(\[[^\]]*\]|'[^']*'|\"[^\"]*\")", re.M)


def _config_sha(path: Path, seen: frozenset[Path] = frozenset()) -> str:
    """A config's content with that of every `_base_` file it inherits (mmengine resolves them
    relative to the config), so editing a base config counts as a change too."""
    digest = hashlib.sha256(_file_sha(path).encode())
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return digest.hexdigest()
    match = _BASE.search(text)
    for base in re.findall(r"['\"]([^'\"]+)['\"]", match.group(1)) if match else []:
        base_path = (path.parent / base).resolve()
        if base_path not in seen:
            digest.update(_config_sha(base_path, seen | {base_path}).encode())
    return digest.hexdigest()


def _file_sha(path: Path | str) -> str:
    try:
        return sha256_file(Path(path))
    except OSError:
        return f"unreadable:{path}"


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
