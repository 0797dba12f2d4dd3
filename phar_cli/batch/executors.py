"""Where a batch's analyses run: `local` (a process pool on this machine) or `ray` (actors on a
Ray cluster, or on a local Ray started for the run); `InProcessExecutor` (this process) for the
Stash plugin. All hand back `concurrent.futures.Future`s of a worker's result dict, so the
driver's loop is the same for all.

The driver keeps at most `slots` videos in flight (one per worker), so a dispatched video is
really being analysed, and stopping leaves nothing queued inside an executor.
"""
from __future__ import annotations

import importlib.util
import logging
import math
import multiprocessing
import os
import signal
from abc import ABC, abstractmethod
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from phar_cli.batch.worker import Job, Worker, WorkerSetup, init_pool_worker, run_pool_job
from phar_cli.defaults import STREAMS
from phar_cli.errors import InvalidOption, PharError

log = logging.getLogger("phar")
RAY_INSTALL = "pip install 'phar[ray]'  (or: pip install ray)"


class ExecutorError(PharError):
    """An executor that cannot start (Ray missing or unreachable, no worker fits the cluster)."""


class Executor(ABC):
    name: str
    slots: int = 1

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def submit(self, job: Job) -> Future: ...

    def release(self, future: Future) -> None:
        """The driver is done with `future`; a worker that died with it is replaced."""

    @abstractmethod
    def stop(self, now: bool = False) -> None:
        """Shut down; `now` ends workers without waiting for the videos they hold."""

    def describe(self) -> str:
        return f"{self.name}, {self.slots} worker{'s' if self.slots != 1 else ''}"


def lost_error(ex: BaseException) -> str:
    """The error recorded for a video whose worker died under it (redone by the next run)."""
    if isinstance(ex, BrokenProcessPool):
        return "the worker process died while analysing this video (crashed, or killed: out of memory?)"
    detail = " ".join(str(ex).split())[:200]
    return f"the worker died while analysing this video ({type(ex).__name__}: {detail})"


# -- local ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LocalPlan:
    workers: int
    devices: list[str] | None  # one per worker, round-robin; None: each worker's own choice
    threads: int


def plan_local(device: str, workers: int | None) -> LocalPlan:
    """Size the pool to the machine: one worker per GPU on CUDA (spread over them); on CPU one
    worker per two cores, fewer when memory is short (a worker holds its own models, ~3 GiB with
    every stream), each with an equal share of the cores for torch."""
    from phar_cli.models.devices import cuda_devices

    cpus = os.cpu_count() or 1
    devices = cuda_devices(device) or None
    if devices:
        count = workers or len(devices)
    else:
        count = workers or max(1, min(cpus // 2, int(_memory_gib() // 3) or 1))
    return LocalPlan(count, devices, max(1, cpus // count))


def _memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 8.0


class LocalExecutor(Executor):
    """A process pool (spawn: torch and fork do not mix), one Engine per worker process."""

    name = "local"

    def __init__(self, setup: WorkerSetup, workers: int | None = None) -> None:
        self.plan = plan_local(setup.options.device, workers)
        self.setup = WorkerSetup(setup.options, self.plan.threads, setup.project_root, setup.models_home)
        self.slots = self.plan.workers
        self._context = multiprocessing.get_context("spawn")
        self._counter = self._context.Value("i", 0)
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=self.slots, mp_context=self._context, initializer=init_pool_worker,
            initargs=(self.setup, self.plan.devices, self._counter))

    def submit(self, job: Job) -> Future:
        assert self._pool is not None
        try:
            return self._pool.submit(run_pool_job, job)
        except BrokenProcessPool:
            self._restart()
            return self._pool.submit(run_pool_job, job)

    def release(self, future: Future) -> None:
        if future.done() and not future.cancelled() and isinstance(future.exception(), BrokenProcessPool):
            self._restart()

    def _restart(self) -> None:
        if self._pool is not None and getattr(self._pool, "_broken", False):
            log.warning("a worker process died; starting a new pool")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self.start()

    def stop(self, now: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if now:
            # Python < 3.14 has no terminate_workers(): end the pool's processes by their handles.
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                if process.is_alive():
                    process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    def describe(self) -> str:
        where = f" on {', '.join(self.plan.devices)}" if self.plan.devices else ""
        return (f"local, {self.slots} worker process{'es' if self.slots != 1 else ''}{where}, "
                f"{self.plan.threads} thread{'s' if self.plan.threads != 1 else ''} each")


# -- in this process --------------------------------------------------------------------------

class InProcessExecutor(Executor):
    """The analyses in this process, one at a time: for a caller that is itself killed without
    warning (a Stash plugin task gets SIGKILL, which would orphan a pool's workers), so killing
    it stops everything. The Engine is built on the first video and kept."""

    name = "in-process"

    def __init__(self, setup: WorkerSetup) -> None:
        self.worker = Worker(setup)

    def start(self) -> None:
        pass

    def submit(self, job: Job) -> Future:
        future: Future = Future()
        future.set_result(self.worker.analyse(job))
        return future

    def stop(self, now: bool = False) -> None:
        pass

    def describe(self) -> str:
        return "in this process, one video at a time"


# -- ray --------------------------------------------------------------------------------------

class EngineActor:
    """A Ray actor holding one Worker (one Engine); Ray gives it its GPU share and CPUs."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.worker = Worker(setup)

    def analyse(self, job: Job) -> dict[str, Any]:
        return self.worker.analyse(job)


def parse_resources(text: str | None, streams: tuple[str, ...], option: str) -> float | None:
    """GPUs or CPUs per Ray actor (`option`: ray_gpus, ray_cpus): one number, or a share per stream
    ('rgb=0.25,skeleton=0.5,audio=0.1') summed over the streams this batch runs."""
    if text is None or not text.strip():
        return None
    try:
        if "=" not in text:
            value = float(text)
        else:
            pairs = (p.split("=", 1) for p in text.split(",") if p.strip())
            shares = {k.strip().lower(): float(v) for k, v in pairs}
            unknown = set(shares) - set(STREAMS)
            if unknown:
                raise ValueError(f"unknown stream {', '.join(sorted(unknown))}")
            value = sum(shares.get(s, 0.0) for s in streams)
    except ValueError as ex:
        raise InvalidOption(option, f"{{option}}: give a number or 'rgb=N,skeleton=N,audio=N' "
                                    f"({ex})") from ex
    if value < 0 or not math.isfinite(value):
        raise InvalidOption(option, "must be >= 0")
    return value


class RayExecutor(Executor):
    """Model actors on a Ray cluster (`address`) or a local Ray for the run; videos are actor
    calls, results come back to the driver. The files must be at the same paths on every node."""

    name = "ray"

    def __init__(self, setup: WorkerSetup, address: str | None = None, workers: int | None = None,
                 cpus: float | None = None, gpus: float | None = None, verbose: bool = False) -> None:
        self.setup = setup
        self.address = address
        self.workers = workers
        self.cpus = cpus
        self.gpus = gpus
        self.verbose = verbose
        self.slots = 0
        self._ray: Any = None
        self._started_ray = False
        self._actor_class: Any = None
        self._idle: list[Any] = []
        self._busy: dict[Future, Any] = {}

    def start(self) -> None:
        try:
            import ray
        except ImportError as ex:
            raise InvalidOption("executor", f"ray needs Ray, which is not installed: {RAY_INSTALL}") from ex
        self._ray = ray
        # ray.init may install its own SIGINT/SIGTERM handlers; the caller's stay in charge.
        saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            if not ray.is_initialized():
                kwargs: dict[str, Any] = dict(logging_level=logging.ERROR, log_to_driver=self.verbose)
                if self.address:
                    ray.init(address=self.address, **kwargs)
                else:  # a local Ray for this run: room for the actors asked for
                    wanted = (self.workers or 0) * (self.cpus if self.cpus is not None else 1.0)
                    ray.init(num_cpus=max(os.cpu_count() or 1, math.ceil(wanted)),
                             include_dashboard=False, **kwargs)
                self._started_ray = True
        except Exception as ex:  # noqa: BLE001 - Ray raises many kinds; one line for the user
            where = self.address or "a local Ray"
            raise ExecutorError(f"cannot start Ray ({where}): {' '.join(str(ex).split())[:300]}") from ex
        finally:
            for sig, handler in saved.items():
                if handler is not None:
                    signal.signal(sig, handler)
        resources = ray.cluster_resources()
        total_gpus, total_cpus = resources.get("GPU", 0.0), resources.get("CPU", 0.0)
        gpus = self.gpus if self.gpus is not None else (1.0 if total_gpus >= 1 else 0.0)
        cpus = self.cpus if self.cpus is not None else 1.0
        if gpus > 0 and total_gpus < gpus:
            raise ExecutorError(f"{gpus:g} GPUs per actor asked, but the Ray cluster has {total_gpus:g}")
        if cpus > total_cpus:
            raise ExecutorError(f"{cpus:g} CPUs per actor asked, but the Ray cluster has {total_cpus:g}")
        fits = [int(total_cpus // cpus) if cpus > 0 else 10**6]
        if gpus > 0:
            fits.append(int(total_gpus // gpus))
        if self.workers and self.workers > min(fits):  # the rest would wait for resources forever
            raise ExecutorError(f"{self.workers} workers asked, but the Ray cluster has room for "
                                f"{min(fits)} actors of {cpus:g} CPU and {gpus:g} GPU; ask for "
                                "fewer, or smaller CPU/GPU shares")
        self.slots = max(1, self.workers or min(fits))
        threads = max(1, int(cpus)) if cpus >= 1 else 1
        self.setup = WorkerSetup(self.setup.options, threads, self.setup.project_root, self.setup.models_home)
        self._actor_class = ray.remote(EngineActor).options(num_cpus=cpus, num_gpus=gpus)
        self._per_actor = (cpus, gpus)
        self._idle = [self._actor_class.remote(self.setup) for _ in range(self.slots)]

    def submit(self, job: Job) -> Future:
        actor = self._idle.pop()
        future = actor.analyse.remote(job).future()
        self._busy[future] = actor
        return future

    def release(self, future: Future) -> None:
        actor = self._busy.pop(future, None)
        if actor is None:
            return
        error = future.exception() if future.done() and not future.cancelled() else None
        if error is not None and isinstance(error, self._ray.exceptions.RayActorError):
            log.warning("a Ray actor died; starting another")
            self._ray.kill(actor, no_restart=True)
            actor = self._actor_class.remote(self.setup)
        self._idle.append(actor)

    def stop(self, now: bool = False) -> None:
        if self._ray is None:
            return
        for actor in [*self._idle, *self._busy.values()]:
            try:
                self._ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        self._idle, self._busy = [], {}
        if self._started_ray:
            self._ray.shutdown()
        self._ray = None

    def describe(self) -> str:
        cpus, gpus = getattr(self, "_per_actor", (None, None))
        where = f"Ray at {self.address}" if self.address else "a local Ray"
        actors = f"{self.slots} actor{'s' if self.slots != 1 else ''}"
        return f"{where}, {actors} ({cpus:g} CPU, {gpus:g} GPU each)"


def make_executor(kind: str, setup: WorkerSetup, *, workers: int | None = None,
                  ray_address: str | None = None, ray_cpus: float | None = None,
                  ray_gpus: float | None = None, verbose: bool = False) -> Executor:
    kind = kind.strip().lower()
    if workers is not None and workers < 1:
        raise InvalidOption("workers", "must be >= 1")
    if kind == "local":
        if ray_address or ray_cpus is not None or ray_gpus is not None:
            raise InvalidOption("executor", "a Ray address or Ray CPU/GPU shares need {option} ray")
        return LocalExecutor(setup, workers)
    if kind == "ray":
        if importlib.util.find_spec("ray") is None:  # say so before anything is written
            raise InvalidOption("executor", f"ray needs Ray, which is not installed: {RAY_INSTALL}")
        return RayExecutor(setup, ray_address, workers, ray_cpus, ray_gpus, verbose)
    raise InvalidOption("executor", f"{kind!r}: choose local or ray")


__all__ = ["Executor", "ExecutorError", "InProcessExecutor", "LocalExecutor", "RayExecutor",
           "lost_error", "make_executor", "parse_resources"]
