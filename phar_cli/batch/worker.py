"""What runs where the models are: one Engine per worker (a pool process or a Ray actor), built
on the first video and reused for every later one, so each model loads once per worker.

A worker never writes files or the catalog; it returns a plain dict (the Analysis as a dict, or
the video's one-line error) to the driver, which alone writes. Errors are sorted in two kinds:
a video's own problem (missing, corrupt, too short: `failed`, the batch goes on) and a problem of
the worker itself (model files, label maps, device: `fatal`, the batch stops, since every other
video would fail the same way).
"""
from __future__ import annotations

import dataclasses
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phar_cli.core.engine import Engine, EngineOptions
from phar_cli.core.load import for_device
from phar_cli.errors import ModelLoadError, ModelNotFound, PharError, UsageError

FATAL = (ModelLoadError, UsageError, ImportError)


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker needs to build its Engine; pickled to each worker once."""

    options: EngineOptions
    threads: int | None = None       # torch intra-op threads (workers share the machine's cores)
    # The driver's folder holding its shipped configs/ (`config_dir().parent`: the checkout, or
    # site-packages/phar_cli), to find the same configs and label maps on another machine.
    project_root: str | None = None
    models_home: str | None = None


@dataclass(frozen=True)
class Job:
    video_id: int
    path: str
    vr: str | None = None  # this video's VR mode when the library says (a Stash VR tag)


class Worker:
    """Holds one Engine for the life of a worker process or actor."""

    def __init__(self, setup: WorkerSetup, device: str | None = None) -> None:
        self.setup = setup
        self.device = device
        self.engine: Engine | None = None
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def analyse(self, job: Job) -> dict[str, Any]:
        started = time.perf_counter()
        result: dict[str, Any] = {"video_id": job.video_id, "worker": self.name, "load_seconds": 0.0}
        try:
            if self.engine is None:
                self.engine = self._build()
                result["load_seconds"] = round(time.perf_counter() - started, 3)
        except Exception as ex:  # noqa: BLE001 - returned to the driver as one line
            return {**result, **_fatal(ex)}
        started = time.perf_counter()  # `seconds`: the analysis alone, model loading apart
        try:
            analysis = self.engine.analyse(job.path, vr=job.vr)
        except FATAL as ex:
            return {**result, **_fatal(ex)}
        except Exception as ex:  # noqa: BLE001 - a video's failure is data, not a crash
            return {**result, "status": "failed", "error": one_line(ex),
                    "seconds": round(time.perf_counter() - started, 3)}
        return {**result, "status": "done", "analysis": analysis.to_dict(),
                "seconds": round(time.perf_counter() - started, 3)}

    def _build(self) -> Engine:
        """Build the Engine and load every model it will need now, so a model problem shows up
        once, before any video is blamed for it."""
        options = relocate(self.setup.options, self.setup.project_root, self.setup.models_home)
        if self.device:
            options = dataclasses.replace(options, device=self.device)
        options = for_device(options)  # the profile's presets for this worker's device
        if options.threads is None:  # the Engine sets them; the user's --threads comes first
            options = dataclasses.replace(options, threads=self.setup.threads)
        if options.decode_workers is None and self.setup.threads:  # this worker's share of cores
            from phar_cli.media.window_frames import auto_decode_workers

            options = dataclasses.replace(options,
                                          decode_workers=auto_decode_workers(self.setup.threads))
        return Engine(options).load()


def relocate(options: EngineOptions, project_root: str | None, models_home: str | None) -> EngineOptions:
    """The driver's model files as seen on this machine: a path that does not exist here but lies
    under the driver's phar install (its shipped configs and label maps) or its $PHAR_HOME/models
    is looked up under this machine's own. A file found nowhere is a one-line error naming this
    host."""
    from phar_cli.models.registry import config_dir, models_home as local_home

    roots = [(project_root, config_dir().parent), (models_home, local_home())]

    def here(path: Path | None) -> Path | None:
        if path is None or path.exists():
            return path
        for theirs, ours in roots:
            if theirs:
                try:
                    moved = Path(ours) / path.relative_to(theirs)
                except ValueError:
                    continue
                if moved.exists():
                    return moved
        raise ModelNotFound(f"model file {path} not found on {socket.gethostname()}; install phar "
                            "and run `phar models fetch` there, or share $PHAR_HOME (see README: Batch)")

    models = {name: dataclasses.replace(f, config=here(f.config), checkpoint=here(f.checkpoint),
                                        labels=here(f.labels))
              for name, f in options.models.items()}
    return dataclasses.replace(options, models=models)


def _fatal(ex: BaseException) -> dict[str, Any]:
    return {"status": "fatal", "error": one_line(ex), "seconds": 0.0,
            "exit_code": getattr(ex, "exit_code", 1)}


def one_line(ex: BaseException) -> str:
    text = " ".join(str(ex).split())
    if isinstance(ex, PharError):
        return text or type(ex).__name__
    return f"internal error: {type(ex).__name__}: {text}" if text else f"internal error: {type(ex).__name__}"


# -- the local pool's side: one Worker per process, in a module global --------------------------

_WORKER: Worker | None = None


def init_pool_worker(setup: WorkerSetup, devices: list[str] | None, counter: Any) -> None:
    """ProcessPoolExecutor initializer: never raises (a failing initializer breaks the whole pool
    without a word); the Engine is built on the first job, where errors are reported."""
    global _WORKER
    # Ctrl-C in a terminal reaches the whole process group: only the driver decides what it means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    device = None
    if devices:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        device = devices[index % len(devices)]
    _WORKER = Worker(setup, device)


def run_pool_job(job: Job) -> dict[str, Any]:
    assert _WORKER is not None, "init_pool_worker did not run"
    return _WORKER.analyse(job)
