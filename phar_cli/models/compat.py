"""Every workaround phar needs for the OpenMMLab stack, in one place (never edit site-packages).

1. mmaction2 1.2.0's PyPI package lacks `mmaction/models/localizers/drn/` although
   `mmaction/models/localizers/__init__.py` imports it: a placeholder module is registered before
   mmaction is imported (phar never uses DRN, a temporal grounding model).
2. mmpose 1.3.2 imports torchvision for one visualiser only, and PyPI's torchvision does not import
   beside the CPU torch: an absent or broken torchvision is replaced by an empty module that fails
   loudly if something really calls it.
3. mmaction2 1.2.0 still uses names NumPy 2 removed (`np.Inf` in PoseCompact, `np.trapz`,
   `np.in1d` in its metrics): they are restored as aliases of their NumPy 2 spellings.
4. The stack warns about things phar does on purpose (building models without a checkpoint and
   loading weights itself, COCO metainfo by default, pkg_resources): those warnings are silenced
   unless phar runs with --debug.
5. mmaction2 1.2.0 imports its multimodal models (VindLU) whenever transformers >= 4.28 is
   installed, and they do not import beside transformers 5 (names they import from it were moved
   or removed), which takes `import mmaction.models` down with them: when their module-level
   imports fail, `mmaction.models.multimodal` is replaced by an empty module (phar never uses
   VindLU, a video-text model).
(Checkpoints are read by `safe_load.py`: with `weights_only=True` and an allowlist of data types.)
"""
from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import logging
import re
import sys
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from phar_cli.errors import ModelLoadError

_PATCHED = False


def _placeholder(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    # a spec, so importlib.util.find_spec(name) answers instead of raising ValueError
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package="__path__" in attrs)
    module.__phar_placeholder__ = True
    return module


def _mmaction_root() -> Path | None:
    spec = importlib.util.find_spec("mmaction")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _patch_missing_drn() -> None:
    root = _mmaction_root()
    if root is None or (root / "models" / "localizers" / "drn").is_dir():
        return

    class DRN:  # never registered: phar does not use it
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise ModelLoadError("DRN is not part of this mmaction2 install (PyPI package lacks it)")

    pkg = "mmaction.models.localizers.drn"
    sys.modules.setdefault(pkg, _placeholder(pkg, DRN=DRN, __path__=[]))
    sys.modules.setdefault(pkg + ".drn", _placeholder(pkg + ".drn", DRN=DRN))


def _patch_multimodal() -> None:
    root = _mmaction_root()
    package = root / "models" / "multimodal" if root else None
    if package is None or not package.is_dir():
        return
    try:  # mmaction's own test (utils/dependency.py): below 4.28 it skips VindLU by itself
        version = importlib.metadata.version("transformers")
    except importlib.metadata.PackageNotFoundError:
        return
    if tuple(int(n) for n in re.findall(r"\d+", version)[:2]) < (4, 28):
        return
    # Run the multimodal modules' own module-level imports of other packages (transformers, timm,
    # einops, ...), read from their source, so the test is exactly what importing them would need.
    try:
        for path in sorted(package.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            imports: list[ast.stmt] = [
                node for node in tree.body
                if (isinstance(node, ast.Import)
                    and not any(a.name.split(".")[0] == "mmaction" for a in node.names))
                or (isinstance(node, ast.ImportFrom) and not node.level
                    and (node.module or "").split(".")[0] != "mmaction")]
            exec(compile(ast.Module(body=imports, type_ignores=[]), str(path), "exec"), {})
    except Exception as ex:  # noqa: BLE001 - a broken transformers raises more than ImportError
        reason = f"transformers {version}: {type(ex).__name__}: {ex}"
        logging.getLogger("phar").debug("mmaction's multimodal models left out (%s)", reason)
        name = "mmaction.models.multimodal"
        sys.modules.setdefault(name, _placeholder(name, __path__=[], __all__=[], reason=reason))


def _patch_torchvision() -> None:
    try:
        import torchvision  # noqa: F401
        return
    except Exception:  # noqa: BLE001 - a broken torchvision raises RuntimeError, not ImportError
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]

    def _missing(*args: Any, **kwargs: Any) -> Any:
        raise ModelLoadError("torchvision is not usable here; phar does not need it")

    def _attr(name: str) -> Any:
        if name.startswith("__"):  # inspect and pickle probe dunders: answer like a plain module
            raise AttributeError(name)
        return _missing

    tv = _placeholder("torchvision", __path__=[], __version__="0.0.0")
    tv_transforms = _placeholder("torchvision.transforms", __path__=[], __getattr__=_attr)
    tv_functional = _placeholder("torchvision.transforms.functional", __getattr__=_attr)
    tv.transforms = tv_transforms
    tv_transforms.functional = tv_functional
    sys.modules.update({"torchvision": tv, "torchvision.transforms": tv_transforms,
                        "torchvision.transforms.functional": tv_functional})


def _patch_numpy2_names() -> None:
    import numpy as np

    aliases = {"Inf": lambda: np.inf, "trapz": lambda: np.trapezoid,
               "in1d": lambda: (lambda a, b, **kw: np.isin(a, b, **kw).ravel())}
    for name, make in aliases.items():
        if name not in np.__dict__:
            try:
                getattr(np, name)
            except AttributeError:
                setattr(np, name, make())


def _quiet_warnings() -> None:
    if logging.getLogger("phar").isEnabledFor(logging.DEBUG):
        return
    warnings.filterwarnings("ignore", module=r"(mmcv|mmengine|mmaction|mmdet|mmpose)(\.|$)")
    warnings.filterwarnings("ignore", message=r".*pkg_resources is deprecated.*")


@contextlib.contextmanager
def quiet_warnings() -> Iterator[None]:
    """Silence the stack's warnings around a call that resets the warning filters itself."""
    with warnings.catch_warnings():
        if not logging.getLogger("phar").isEnabledFor(logging.DEBUG):
            warnings.simplefilter("ignore")
            # mmdet/mmpose call warnings.simplefilter('once') inside: drop what still gets through
            warnings.showwarning = lambda *args, **kwargs: None
        yield


def patch() -> None:
    """Apply the workarounds once, before any OpenMMLab import."""
    global _PATCHED
    if _PATCHED:
        return
    _quiet_warnings()
    _patch_missing_drn()
    _patch_torchvision()
    _patch_numpy2_names()
    _patch_multimodal()
    _PATCHED = True


def import_openmmlab() -> None:
    """Import the three OpenMMLab packages with the workarounds; register their modules."""
    patch()
    try:
        import mmcv.ops  # noqa: F401  (compiled ops: mmdet and mmpose need mmcv._ext)
        import mmaction.models  # noqa: F401
        import mmdet.models  # noqa: F401
        import mmpose.models  # noqa: F401
        from mmaction.utils import register_all_modules as reg_action
        from mmdet.utils import register_all_modules as reg_det
        from mmpose.utils import register_all_modules as reg_pose
    except ImportError as ex:
        raise ModelLoadError(f"the OpenMMLab stack is not installed correctly ({ex}); "
                             "run scripts/install.sh") from ex
    reg_det(init_default_scope=False)
    reg_pose(init_default_scope=False)
    reg_action(init_default_scope=False)


def check_stack() -> None:
    """Fail loudly (for the installer) if the stack cannot be imported or lacks compiled ops."""
    import_openmmlab()
    import mmaction
    import mmcv
    import mmdet
    import mmengine
    import mmpose
    from mmcv.ops import nms  # noqa: F401  needs mmcv._ext

    print(f"OpenMMLab stack ok: mmcv {mmcv.__version__} (ops), mmengine {mmengine.__version__}, "
          f"mmaction2 {mmaction.__version__}, mmdet {mmdet.__version__}, mmpose {mmpose.__version__}")
