"""phar's layers only look down, and no module imports itself round a cycle.

Every `import` in the package counts, at module level or inside a function (a lazy import is an
arrow too). The layers, bottom up: base (errors, spans, atomic, defaults, version) → media →
models → core → outputs → data / batch / train → the CLI → the package's face.
Modules of one layer may import each other, never in a cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "phar_cli"
LAYERS = [
    {"errors", "spans", "atomic", "defaults", "version"},
    {"media"},
    {"models"},
    {"core"},
    {"outputs"},
    {"data", "batch", "train"},
    {"_cli", "cli"},
    {"__init__"},
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module}: in no layer; add its package to LAYERS")


def is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:]) if "." in name else Path()
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def imports(path: Path) -> set[str]:
    """The phar modules `path` imports (a `from pkg import name` of a submodule counts as it)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "phar_cli"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "phar_cli":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if is_module(sub) else node.module)
    return found


GRAPH = {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_is_in_a_layer():
    for module in GRAPH:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_only_look_down(module):
    up = sorted(t for t in GRAPH[module] if layer_of(t) > layer_of(module))
    assert not up, f"{module} imports from a higher layer: {', '.join(up)}"


def test_no_import_cycle():
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(GRAPH.get(module, ())):
            if target == module or target not in GRAPH:
                continue
            if state.get(target) == 1:
                cycle = stack[stack.index(target):] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if layer_of(m) < layer_of("phar_cli.cli")))
def test_the_library_never_imports_the_terminal_ui(module):
    path = next(p for p in PACKAGE.rglob("*.py") if module_name(p) == module)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree)
              if isinstance(n, ast.ImportFrom) and n.module and n.level == 0}
    assert not names & {"typer", "rich", "click"}, f"{module} imports {names & {'typer', 'rich', 'click'}}"


def test_the_check_sees_an_arrow_up(tmp_path):
    """The walk finds imports inside functions, and a lower layer importing a higher one fails."""
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from phar_cli.core.engine import Engine\n"
                      "from phar_cli import media\n")
    found = imports(source)
    assert found == {"phar_cli.core.engine", "phar_cli.media"}
    assert layer_of("phar_cli.core.engine") > layer_of("phar_cli.media.decode")
