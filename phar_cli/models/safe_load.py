"""Model files read without running their code.

A `.pth` file is a pickle, and unpickling runs whatever callables the file names. phar reads
every checkpoint with `torch.load(weights_only=True)`: tensors, containers and plain values, plus
an allowlist of the data types that MMAction2/MMDet/MMPose files really hold (found with
`torch.serialization.get_unsafe_globals_in_checkpoint` on the seed-era, OpenMMLab and mmengine
Runner files):

* NumPy scalars, arrays and dtypes (a Runner's `meta` and message hub), under NumPy 2's module
  paths and NumPy 1's (`numpy.core.multiarray.scalar`), so files written under either load;
* mmengine's `HistoryBuffer` (the message hub's logged scalars, a plain data class), and the one
  `getattr` its pickle makes: a statistic method of `HistoryBuffer` itself. That `getattr` is
  replaced by a stand-in that answers for those names only, so no other attribute lookup (the
  usual way a pickle reaches a function that runs code) is possible.

A file that needs anything else is refused with one line naming the first global it wanted.
`PHAR_TRUST_CHECKPOINTS=1` (`phar --trust-checkpoints`) loads such a file the old way, with
`weights_only=False`, after a warning: only for files from a source you trust. Files that
`phar models fetch` downloaded are also checked against their pinned sha256 first (`pins.py`).
"""
from __future__ import annotations

import functools
import logging
import os
import pickle
import re
from pathlib import Path
from typing import Any

from phar_cli.errors import ModelLoadError
from phar_cli.models.pins import check_pinned

log = logging.getLogger("phar")
TRUST_ENV = "PHAR_TRUST_CHECKPOINTS"
_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def env_flag(name: str) -> bool:
    """Whether the environment variable `name` is set to 1, true or yes."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def trusting() -> bool:
    """Whether the user opted in to loading checkpoints that can run code."""
    return env_flag(TRUST_ENV)


def _history_statistic(owner: Any, name: str) -> Any:
    """`getattr` as an mmengine message hub's pickle uses it: a method of `HistoryBuffer`."""
    from mmengine.logging.history_buffer import HistoryBuffer

    statistics = {"min", "max", "mean", "current", *HistoryBuffer._statistics_methods}
    if owner is HistoryBuffer and name in statistics:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(f"GLOBAL builtins.getattr on {owner!r}.{name} is not allowed")


@functools.cache
def allowed_globals() -> list[Any]:
    """The data types (and their names in files) a model file may hold besides tensors."""
    import collections

    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    multiarray = getattr(np, "_core", None) or np.core  # NumPy 2, else NumPy 1
    allowed: list[Any] = [collections.OrderedDict, np.ndarray, np.dtype, HistoryBuffer,
                          (_history_statistic, "builtins.getattr")]
    for name in ("scalar", "_reconstruct"):
        function = getattr(multiarray.multiarray, name)
        allowed += [(function, f"numpy.core.multiarray.{name}"),
                    (function, f"numpy._core.multiarray.{name}")]
    dtypes = {type(np.dtype(code)) for code in "?bBhHiIlLqQefdgFDGSUVOMm"}
    allowed += sorted(dtypes, key=lambda t: t.__name__)
    return allowed


def read_checkpoint(path: str | os.PathLike[str]) -> Any:
    """The contents of a model file, read without running code (see the module's docstring);
    every failure is one ModelLoadError line naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"{path}: checkpoint not found")
    check_pinned(path)
    if trusting():
        log.warning("%s: loaded with weights_only=False (%s=1): a checkpoint is code, and this "
                    "one runs with your rights", path, TRUST_ENV)
        return _load(path, weights_only=False)
    allow_in_this_process()
    return _load(path, weights_only=True)


def _load(path: Path, *, weights_only: bool) -> Any:
    import torch

    try:
        return torch.load(str(path), map_location="cpu", weights_only=weights_only)
    except pickle.UnpicklingError as ex:
        found = _GLOBAL.search(str(ex))
        if weights_only and found:
            raise ModelLoadError(
                f"{path}: refused: it holds {found.group(1)}, which a model file does not need "
                f"and which could run code; if you trust its source, load it with "
                f"--trust-checkpoints ({TRUST_ENV}=1)") from ex
        raise ModelLoadError(f"{path}: not a readable PyTorch checkpoint ({_first_line(ex)})") from ex
    except Exception as ex:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise ModelLoadError(f"{path}: not a readable PyTorch checkpoint "
                             f"({type(ex).__name__}: {_first_line(ex)})") from ex


def _first_line(ex: BaseException) -> str:
    lines = [line.strip() for line in str(ex).splitlines() if line.strip()]
    return lines[0][:160] if lines else type(ex).__name__


@functools.cache
def allow_in_this_process() -> None:
    """Add the allowlist to torch's, for this process: phar's loads and mmengine's own (when
    `phar train` resumes or fine-tunes) read these data types, and no more. (Process-wide, once:
    torch's `safe_globals` context manager would take them away again when it exits.)"""
    import torch

    torch.serialization.add_safe_globals(allowed_globals())
