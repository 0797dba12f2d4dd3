"""phar's layers only look down, and no module imports itself round a cycle.

The layers, bottom up: base (errors, spans, atomic, defaults, version) → media → models → core →
outputs → layer 5 (data, synthetic, train, batch, stash, similarity, stash_plugin) → the CLI
(_cli, cli) → the package's face (phar_cli/__init__.py). Modules of one layer may import each
other, never in a cycle.

What counts as an arrow, at module level or inside a function (a lazy import is an arrow too):
`import x`, `from x import y` (a `from pkg import name` of a submodule counts as the submodule),
relative imports (resolved against the importing module's package), and
`importlib.import_module("x")`, `importlib.util.find_spec("x")` and `__import__("x")` called
with a string constant. The face is the top layer and may import anything below it; its lazy
export table `_EXPORTS` ("name": "module[:attr]") is parsed, so its arrows are in the graph too.

The rules, each a function of a package folder returning its violations (the tests below run them
on the real package, and the self-tests on a copy with a violation planted):
- every module is in a layer; arrows only point down (or sideways inside a layer);
- inside layer 5 the order is data, synthetic, train, batch, stash, similarity, stash_plugin,
  and only the arrows of `LAYER5_ARROWS` are allowed between its packages;
- production code below layer 5 imports `phar_cli.synthetic` only as `SYNTHETIC_EXCEPTIONS` says
  (the `markers` pose backend, lazily, inside a function);
- OpenMMLab (mmaction, mmdet, mmpose, mmengine, mmcv) is imported only in phar_cli/models/ and
  phar_cli/train/;
- typer, rich and click only in the CLI (and the face above it);
- no import cycle.
"""
from __future__ import annotations

import ast
import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "phar_cli"
NAME = "phar_cli"
LAYERS = [
    {"errors", "spans", "atomic", "defaults", "version"},
    {"media"},
    {"models"},
    {"core"},
    {"outputs"},
    {"data", "synthetic", "train", "batch", "stash", "similarity", "stash_plugin"},
    {"_cli", "cli"},
    {"__init__"},
]
LAYER5 = ["data", "synthetic", "train", "batch", "stash", "similarity", "stash_plugin"]
# importer -> the layer-5 packages it may import (each earlier in LAYER5); any other arrow between
# two layer-5 packages is a violation.
LAYER5_ARROWS: dict[str, set[str]] = {
    "data": set(),
    "synthetic": set(),
    "train": {"data"},
    "stash": {"batch"},
    "batch": set(),
    "similarity": {"batch", "stash"},
    "stash_plugin": {"batch", "stash", "similarity"},
}
# (importer, imported): the only imports of phar_cli.synthetic from below layer 5, and each only
# inside a function (the user asked for it: `--pose-backend markers`).
SYNTHETIC_EXCEPTIONS = {("phar_cli.models.pose_backends", "phar_cli.synthetic.marker_poses")}
OPENMMLAB = {"mmaction", "mmdet", "mmpose", "mmengine", "mmcv"}
OPENMMLAB_HOMES = {"models", "train"}
TERMINAL_UI = {"typer", "rich", "click"}
IMPORTLIB_CALLS = {"import_module", "find_spec", "__import__"}


@dataclass(frozen=True)
class Arrow:
    """One import in a module: `target` is a phar module (the longest prefix that is one) or an
    outside dotted name."""

    source: str
    target: str
    line: int
    lazy: bool  # inside a function (runs when called, not when the module is imported)
    how: str    # import, from, relative, importlib, exports


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Package:
    root: Path
    arrows: dict[str, list[Arrow]]  # module -> its imports, phar and outside ones

    def phar_arrows(self, module: str) -> list[Arrow]:
        return [a for a in self.arrows[module] if top_name(a.target) == NAME]


# --- reading a package -----------------------------------------------------------------------

def top_name(dotted: str) -> str:
    return dotted.split(".")[0]


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(root: Path, name: str) -> bool:
    rel = Path(*name.split(".")[1:]) if "." in name else Path()
    return (root / rel).with_suffix(".py").is_file() or (root / rel / "__init__.py").is_file()


def as_module(root: Path, name: str) -> str:
    """A phar dotted name as the longest prefix of it that is a module (Engine -> its module)."""
    if top_name(name) != NAME:
        return name
    parts = name.split(".")
    while len(parts) > 1 and not is_module(root, ".".join(parts)):
        parts.pop()
    return ".".join(parts)


def resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    """`from <level dots><name> import ...` inside `module`, as an absolute name."""
    package = module if is_package else module.rpartition(".")[0]
    parts = package.split(".")
    if level - 1 >= len(parts):
        raise ValueError(f"{module}: relative import beyond the top-level package")
    base = ".".join(parts[:len(parts) - (level - 1)])
    return f"{base}.{name}" if name else base


def _imports(nodes: list[ast.stmt], lazy: bool = False):
    """(import statement, inside a function) for every import statement, nested ones too."""
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, lazy
        inner = lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                yield from _imports(children, inner)


def _calls(node: ast.AST, lazy: bool = False):
    """(call, inside a function) for every call expression."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Call):
            yield child, lazy
        yield from _calls(child, lazy or isinstance(
            child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def exports_table(tree: ast.Module) -> dict[str, str]:
    """The face's `_EXPORTS = {"name": "module[:attr]", ...}`, as written."""
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 \
            else node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == "_EXPORTS":
            return ast.literal_eval(node.value)
    return {}


def read_arrows(root: Path, path: Path) -> list[Arrow]:
    module = module_name(root, path)
    return [Arrow(module, as_module(root, target), line, lazy, how) for target, line, lazy, how
            in _raw_arrows(module, path.name == "__init__.py", path.read_text(encoding="utf-8"))]


@functools.lru_cache(maxsize=1024)  # by text: the copies of the self-tests parse one file each
def _raw_arrows(module: str, is_package: bool, text: str) -> list[tuple[str, int, bool, str]]:
    """(dotted name, line, lazy, how) of each import; a phar name not yet cut to its module."""
    tree = ast.parse(text)
    found: list[tuple[str, int, bool, str]] = []
    for node, lazy in _imports(tree.body):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, lazy, "import") for alias in node.names]
            continue
        base, how = node.module or "", "from"
        if node.level:
            base, how = resolve_relative(module, is_package, node.level, node.module), "relative"
        # `from pkg import name`: the submodule pkg.name where there is one (as_module decides)
        found += [(f"{base}.{alias.name}" if top_name(base) == NAME else base, node.lineno, lazy,
                   how) for alias in node.names]
    # only where one of the names is in the text: walking every expression is slow
    for node, lazy in _calls(tree) if any(n in text for n in IMPORTLIB_CALLS) else ():
        name = _string(node.args[0]) if node.args and _called_name(node) in IMPORTLIB_CALLS \
            else None
        if name is None:
            continue
        if name.startswith("."):  # import_module(".x", package="phar_cli.y")
            anchor = _string(node.args[1]) if len(node.args) > 1 else next(
                (_string(k.value) for k in node.keywords if k.arg == "package"), None)
            level = len(name) - len(name.lstrip("."))
            if anchor is None:  # package=__package__ or the like: this module's package
                name = resolve_relative(module, is_package, level, name[level:] or None)
            else:
                name = resolve_relative(anchor, True, level, name[level:] or None)
        found.append((name, node.lineno, lazy, "importlib"))
    if module == NAME:
        found += [(spec.partition(":")[0], 0, True, "exports")
                  for spec in exports_table(tree).values()]
    return found


def _fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple((str(p), s.st_mtime_ns, s.st_size)
                 for p in sorted(root.rglob("*.py")) for s in [p.stat()])


@functools.lru_cache(maxsize=16)
def _scan(root: Path, fingerprint: tuple[tuple[str, int, int], ...]) -> Package:
    return Package(root, {module_name(root, p): read_arrows(root, p)
                          for p in sorted(root.rglob("*.py"))})


def scan(root: Path) -> Package:
    """The package at `root` (a folder named phar_cli), read again whenever a file changed."""
    return _scan(root, _fingerprint(root))


def sub_package(module: str) -> str:
    """phar_cli.media.decode -> media; phar_cli.cli -> cli; phar_cli -> __init__."""
    return module.split(".")[1] if "." in module else "__init__"


def layer_of(module: str) -> int | None:
    top = sub_package(module)
    return next((i for i, names in enumerate(LAYERS) if top in names), None)


def _is_synthetic_exception(arrow: Arrow) -> bool:
    return (arrow.source, arrow.target) in SYNTHETIC_EXCEPTIONS and arrow.lazy


# --- the rules: a package folder -> its violations -------------------------------------------

def check_every_module_in_a_layer(root: Path) -> list[Violation]:
    return [Violation(m, 0, f"in no layer; add {sub_package(m)!r} to LAYERS")
            for m in scan(root).arrows if layer_of(m) is None]


def check_arrows_look_down(root: Path) -> list[Violation]:
    pkg, found = scan(root), []
    for module in pkg.arrows:
        for arrow in pkg.phar_arrows(module):
            lower, upper = layer_of(module), layer_of(arrow.target)
            if lower is None or upper is None or upper <= lower or _is_synthetic_exception(arrow):
                continue
            found.append(Violation(module, arrow.line, f"imports {arrow.target} ({arrow.how}), "
                                                       f"a higher layer ({upper} > {lower})"))
    return found


def check_layer5_order(root: Path) -> list[Violation]:
    pkg, found = scan(root), []
    for module in pkg.arrows:
        source = sub_package(module)
        if source not in LAYER5:
            continue
        for arrow in pkg.phar_arrows(module):
            target = sub_package(arrow.target)
            if target in LAYER5 and target != source and target not in LAYER5_ARROWS[source]:
                found.append(Violation(module, arrow.line,
                                       f"imports {arrow.target} ({arrow.how}): {source} -> "
                                       f"{target} is not in LAYER5_ARROWS"))
    return found


def check_synthetic_only_where_asked(root: Path) -> list[Violation]:
    pkg, found = scan(root), []
    for module in pkg.arrows:
        layer = layer_of(module)
        if layer is None or layer >= LAYERS.index(set(LAYER5)):
            continue
        for arrow in pkg.phar_arrows(module):
            if sub_package(arrow.target) == "synthetic" and not _is_synthetic_exception(arrow):
                where = "inside a function" if arrow.lazy else "at module level"
                found.append(Violation(module, arrow.line, f"imports {arrow.target} {where}; "
                                                           "not in SYNTHETIC_EXCEPTIONS"))
    return found


def check_openmmlab_only_in_models_and_train(root: Path) -> list[Violation]:
    pkg = scan(root)
    return [Violation(module, a.line, f"imports {a.target} ({a.how}); OpenMMLab belongs in "
                                      "phar_cli/models/ or phar_cli/train/")
            for module in pkg.arrows if sub_package(module) not in OPENMMLAB_HOMES
            for a in pkg.arrows[module] if top_name(a.target) in OPENMMLAB]


def check_terminal_ui_only_in_the_cli(root: Path) -> list[Violation]:
    pkg, cli = scan(root), LAYERS.index({"_cli", "cli"})
    return [Violation(module, a.line, f"imports {a.target} ({a.how}); the terminal UI belongs "
                                      "in the CLI")
            for module in pkg.arrows if (layer_of(module) or 0) < cli
            for a in pkg.arrows[module] if top_name(a.target) in TERMINAL_UI]


def check_no_import_cycle(root: Path) -> list[Violation]:
    """Each cycle once (found by depth-first search from the modules in sorted order)."""
    pkg = scan(root)
    graph = {m: sorted({a.target for a in pkg.phar_arrows(m)} - {m}) for m in pkg.arrows}
    state: dict[str, int] = {}
    stack: list[str] = []
    found: list[Violation] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in graph[module]:
            if target not in graph:
                continue
            if state.get(target) == 1:
                cycle = stack[stack.index(target):] + [target]
                found.append(Violation(target, 0, "import cycle: " + " -> ".join(cycle)))
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


CHECKS: dict[str, Callable[[Path], list[Violation]]] = {
    f.__name__.removeprefix("check_"): f for f in (
        check_every_module_in_a_layer, check_arrows_look_down, check_layer5_order,
        check_synthetic_only_where_asked, check_openmmlab_only_in_models_and_train,
        check_terminal_ui_only_in_the_cli, check_no_import_cycle)}


# --- the rules on phar_cli -------------------------------------------------------------------

@pytest.mark.parametrize("rule", sorted(CHECKS))
def test_the_package_keeps_the_rule(rule):
    found = CHECKS[rule](PACKAGE)
    assert not found, f"{rule}:\n" + "\n".join(map(str, found))


def test_the_layer5_table_follows_the_order():
    assert set(LAYER5_ARROWS) == set(LAYER5) == set(LAYERS[5])
    for source, targets in LAYER5_ARROWS.items():
        for target in targets:
            assert LAYER5.index(target) < LAYER5.index(source), f"{source} -> {target} looks up"


def test_the_declared_exceptions_exist():
    """Each allowed arrow the tables name is one phar_cli has (a stale exception is removed)."""
    pkg = scan(PACKAGE)
    layer5 = {(sub_package(a.source), sub_package(a.target))
              for m in pkg.arrows for a in pkg.phar_arrows(m)}
    for source, targets in LAYER5_ARROWS.items():
        for target in targets:
            assert (source, target) in layer5, f"LAYER5_ARROWS: {source} no longer imports {target}"
    for source, target in SYNTHETIC_EXCEPTIONS:
        assert any(_is_synthetic_exception(a) for a in pkg.phar_arrows(source)
                   if a.target == target), f"SYNTHETIC_EXCEPTIONS: {source} -> {target} is gone"


# --- self-tests: each rule fails on a copy of the package with a violation planted -----------

@pytest.fixture
def copy(tmp_path) -> Path:
    root = tmp_path / NAME
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def plant(root: Path, rel: str, code: str) -> None:
    """Append `code` to `rel` (a new file when there is none)."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(f"{text}\n{code}\n", encoding="utf-8")


def reported(root: Path, rule: str) -> list[str]:
    return [str(v) for v in CHECKS[rule](root)]


def test_an_unchanged_copy_breaks_no_rule(copy):
    assert {rule: reported(copy, rule) for rule in CHECKS} == {rule: [] for rule in CHECKS}
    assert scan(copy).arrows.keys() == scan(PACKAGE).arrows.keys()


SELF_TESTS = {
    # id: (file, code appended, rule, what its report says)
    "relative import up": (
        "media/decode.py", "from ..core import engine",
        "arrows_look_down", "phar_cli.media.decode:"),
    "relative import of a name up": (
        "media/probe.py", "def f():\n    from ..core.engine import Engine\n    return Engine",
        "arrows_look_down", "imports phar_cli.core.engine (relative)"),
    "importlib.import_module up": (
        "models/devices.py", "import importlib\ndef f():\n"
                             "    return importlib.import_module('phar_cli.outputs')",
        "arrows_look_down", "phar_cli.models.devices:"),
    "__import__ up": (
        "media/probe.py", "def f():\n    return __import__('phar_cli.core.engine')",
        "arrows_look_down", "imports phar_cli.core.engine (importlib)"),
    "a name from the face": (
        "core/tags.py", "from phar_cli import load_engine",
        "arrows_look_down", "imports phar_cli (from)"),
    "a module in no layer": (
        "extra/__init__.py", "X = 1",
        "every_module_in_a_layer", "phar_cli.extra:0: in no layer"),
    "layer 5: train imports batch": (
        "train/runner.py", "from phar_cli.batch import catalog",
        "layer5_order", "phar_cli.train.runner:"),
    "layer 5: data imports train, relatively, in a function": (
        "data/layout.py", "def f():\n    from ..train import runner\n    return runner",
        "layer5_order", "data -> train"),
    "layer 5: batch imports stash by importlib": (
        "batch/plan.py", "import importlib\nimportlib.import_module('phar_cli.stash.api')",
        "layer5_order", "batch -> stash"),
    "synthetic at module level in core": (
        "core/tags.py", "from phar_cli.synthetic import video",
        "synthetic_only_where_asked", "imports phar_cli.synthetic.video at module level"),
    "the markers backend at module level": (
        "models/pose_backends.py",
        "from phar_cli.synthetic.marker_poses import MarkerPoseEstimator",
        "synthetic_only_where_asked", "phar_cli.models.pose_backends:"),
    "synthetic lazily, elsewhere in models": (
        "models/poses.py", "def f():\n    from phar_cli.synthetic import marker_poses\n"
                           "    return marker_poses",
        "synthetic_only_where_asked", "phar_cli.models.poses:"),
    "mmdet in core": (
        "core/engine.py", "import mmdet",
        "openmmlab_only_in_models_and_train", "phar_cli.core.engine:"),
    "mmengine by importlib in outputs": (
        "outputs/base.py", "import importlib\ndef f():\n"
                           "    return importlib.import_module('mmengine.config')",
        "openmmlab_only_in_models_and_train", "imports mmengine.config (importlib)"),
    "mmcv from a name in data": (
        "data/clips.py", "def f():\n    from mmcv.transforms import BaseTransform",
        "openmmlab_only_in_models_and_train", "phar_cli.data.clips:"),
    "rich in outputs": (
        "outputs/base.py", "def f():\n    from rich.console import Console",
        "terminal_ui_only_in_the_cli", "imports rich.console"),
    "typer by importlib in batch": (
        "batch/report.py", "import importlib\nimportlib.import_module('typer')",
        "terminal_ui_only_in_the_cli", "phar_cli.batch.report:"),
    "a cycle of relative imports": (
        "media/_cycle_a.py", "from . import _cycle_b",
        "no_import_cycle", "phar_cli.media._cycle_a -> phar_cli.media._cycle_b -> "
                           "phar_cli.media._cycle_a"),
}


@pytest.mark.parametrize("case", sorted(SELF_TESTS))
def test_the_rule_sees_a_planted_violation(copy, case):
    rel, code, rule, says = SELF_TESTS[case]
    assert not reported(copy, rule)
    plant(copy, rel, code)
    if case == "a cycle of relative imports":
        plant(copy, "media/_cycle_b.py", "from ._cycle_a import X\nY = 1")
        plant(copy, "media/_cycle_a.py", "X = 1")
    found = reported(copy, rule)
    assert any(says in v for v in found), f"{case}: {rule} reported {found}"
    module = ".".join([NAME, *Path(rel).with_suffix("").parts]).removesuffix(".__init__")
    assert all(v.startswith(module + ":") or "cycle" in v for v in found), found


def test_the_face_exports_are_arrows(copy):
    """The face's lazy `_EXPORTS` are read as arrows (an entry added is seen)."""
    face = {a.target for a in scan(copy).arrows[NAME] if a.how == "exports"}
    assert {"phar_cli.core.load", "phar_cli.outputs", "phar_cli.errors"} <= face
    init = copy / "__init__.py"
    init.write_text(init.read_text().replace("_EXPORTS = {", '_EXPORTS = {"x": "phar_cli.batch:X",'))
    assert "phar_cli.batch" in {a.target for a in scan(copy).arrows[NAME] if a.how == "exports"}


def test_relative_imports_resolve():
    assert resolve_relative("phar_cli.media.decode", False, 2, "core") == "phar_cli.core"
    assert resolve_relative("phar_cli.media", True, 1, "decode") == "phar_cli.media.decode"
    assert resolve_relative("phar_cli.media.decode", False, 1, None) == "phar_cli.media"
    with pytest.raises(ValueError):
        resolve_relative("phar_cli.media.decode", False, 3, "x")
