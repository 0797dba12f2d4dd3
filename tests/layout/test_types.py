"""The library face type-checks: what `import phar_cli as phar` offers a type checker is what it
loads at run time, and a misspelt or mistyped option of `phar.load_engine` is an error there.

`phar_cli/__init__.py` loads its names lazily (`_EXPORTS` and `__getattr__`); an
`if TYPE_CHECKING:` block imports the same names for type checkers and editors. The first test
keeps the two the same; the others run mypy (one run for all files, as a subprocess) on the face
and on snippets that use it, right and wrong.

mypy reads phar_cli's own code (`--follow-imports=silent`: checked for types, its errors not
reported) but no installed package (`--no-site-packages`: numpy, torch and OpenMMLab are Any),
which keeps the run short.
"""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FACE = ROOT / "phar_cli" / "__init__.py"
MYPY_OPTIONS = ["--follow-imports=silent", "--ignore-missing-imports", "--no-site-packages",
                "--no-error-summary", "--show-error-codes", "--hide-error-context",
                "--no-color-output"]

GOOD = '''
from pathlib import Path

from typing_extensions import assert_type

import phar_cli as phar

engine = phar.load_engine(None, device="cpu", det_score_thr=0.5)
assert_type(engine, phar.Engine)
analysis = engine.analyse("x.mp4")
assert_type(analysis, phar.Analysis)
segments = phar.segments(analysis)
assert_type(segments, list[phar.Segment])
assert_type(phar.tags(analysis, topk=3), list[phar.Tag])
phar.get_writer("srt").write(analysis, segments, Path("x.srt"))
assert_type(phar.load_predictions("x.json"), phar.Analysis)
assert_type(phar.engine_options(None, device="cpu"), phar.EngineOptions)
assert_type(phar.__version__, str)
formats: tuple[str, ...] = phar.FORMATS
try:
    phar.load_engine("work_dirs", subclip_len=2.0, batch_size=4)
except phar.UsageError as ex:
    assert_type(ex, phar.UsageError)
except phar.PharError as ex:
    assert_type(ex, phar.PharError)
'''
# name: (code, what mypy must say about its last line)
BAD = {
    "typo_keyword": ('phar.load_engine(None, devcie="cpu")', r'"devcie"'),
    "wrong_type": ('phar.load_engine(None, batch_size="four")', r'"batch_size"|"str"'),
    "misspelt_name": ('phar.load_engin(None)', r'"load_engin"'),
}


def face_tables(source: str) -> tuple[dict[str, str], dict[str, str]]:
    """The face's names as "module:name" twice: imported under `if TYPE_CHECKING:`, and loaded
    by `_EXPORTS`; `__all__` must be these names and `__version__`, each once."""
    tree = ast.parse(source)

    def value(name: str):
        return next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == name for t in n.targets))

    table, everything = value("_EXPORTS"), value("__all__")
    assert sorted(everything) == sorted({"__version__", *table}), "__all__ is not _EXPORTS"
    blocks = [n for n in tree.body if isinstance(n, ast.If) and isinstance(n.test, ast.Name)
              and n.test.id == "TYPE_CHECKING"]
    assert len(blocks) == 1, "one `if TYPE_CHECKING:` block at module level"
    imported: dict[str, str] = {}
    for node in blocks[0].body:
        assert isinstance(node, ast.ImportFrom) and node.level == 0 and node.module, \
            f"line {node.lineno}: only `from phar_cli.x import y as z` here"
        for alias in node.names:
            name = alias.asname or alias.name
            assert name not in imported, f"{name} imported twice"
            imported[name] = f"{node.module}:{alias.name}"
    exported = {name: spec if ":" in spec else f"{spec}:{name}" for name, spec in table.items()}
    return imported, exported


def test_type_checking_imports_match_the_exports():
    """Each name of `_EXPORTS` is imported under `if TYPE_CHECKING:` from the module the table
    says, under the name there, and nothing else is."""
    imported, exported = face_tables(FACE.read_text(encoding="utf-8"))
    assert imported == exported


@pytest.mark.parametrize("change", [
    ("    from phar_cli.core.tags import Tag as Tag\n", ""),                       # one missing
    ('"Tag": "phar_cli.core.tags"', '"Tag": "phar_cli.core.segments"'),        # another module
    ("video_tags as tags", "video_tags as tag"),                               # another name
    ('"PharError": "phar_cli.errors",', '"PharError": "phar_cli.errors", "X": "phar_cli.errors",'),
    ('"VideoOpenError", "ModelLoadError",', '"VideoOpenError",'),            # not in __all__
])
def test_the_match_sees_a_drift(change):
    source = FACE.read_text(encoding="utf-8")
    assert change[0] in source
    try:
        imported, exported = face_tables(source.replace(*change))
    except AssertionError:
        return
    assert imported != exported


@pytest.fixture(scope="module")
def mypy_reports(tmp_path_factory) -> dict[str, list[str]]:
    """mypy's lines per file checked: "face", "good" and each of BAD (no cache: a cold run)."""
    folder = tmp_path_factory.mktemp("mypy")
    files = {"face": FACE, "good": folder / "good.py"}
    files["good"].write_text(GOOD, encoding="utf-8")
    for name, (code, _) in BAD.items():
        files[name] = folder / f"{name}.py"
        files[name].write_text(f"import phar_cli as phar\n\n{code}\n", encoding="utf-8")
    command = [sys.executable, "-m", "mypy", *MYPY_OPTIONS, "--cache-dir", str(folder / "cache"),
               *map(str, files.values())]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MYPYPATH": str(ROOT)})
    took = time.monotonic() - started
    if "No module named mypy" in done.stderr:
        pytest.fail("mypy is not installed: pip install -e '.[test]'")
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 2: mypy itself failed
    print(f"mypy took {took:.1f} s")
    lines = done.stdout.splitlines()
    return {name: [line for line in lines if line.startswith(f"{path}:")
                   or line.startswith(f"{os.path.relpath(path, ROOT)}:")]
            for name, path in files.items()}


def errors(lines: list[str]) -> list[str]:
    return [line for line in lines if ": error:" in line]


def test_the_face_type_checks(mypy_reports):
    assert not errors(mypy_reports["face"]), "\n".join(mypy_reports["face"])


def test_using_the_face_type_checks(mypy_reports):
    """`phar.load_engine(...)` is an Engine, its analysis an Analysis, ...: not Any."""
    assert not errors(mypy_reports["good"]), "\n".join(mypy_reports["good"])


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_wrong_use_of_the_face_is_an_error(mypy_reports, case):
    code, says = BAD[case]
    found = errors(mypy_reports[case])
    assert found, f"mypy accepts {code}"
    assert any(re.search(says, line) for line in found), "\n".join(found)
