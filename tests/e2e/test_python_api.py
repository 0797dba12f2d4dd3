"""The README's "Use from Python" example runs as written, and the face does what the CLI does."""
from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from phar_cli.synthetic.video import Scene, make_video
from tests.conftest import LABELS, ROOT, SMALL_CONFIGS, run_phar


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Use from Python"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def workdir(tmp_path, monkeypatch, small_bundle, isolated_home):
    """in.mp4 and a bundle folder work_dirs/ of the small random-weight models."""
    bundle = tmp_path / "work_dirs"
    bundle.mkdir()
    models = {name: {"config": str(config), "labels": str(LABELS[name]) if name in LABELS else None,
                     "checkpoint": str(small_bundle.folder / ("rgb_gated.pth" if name == "rgb"
                                                              else f"{name}.pth"))}
              for name, config in SMALL_CONFIGS.items()}
    (bundle / "bundle.json").write_bytes(orjson.dumps(
        {"schema": "phar.bundle/1", "name": "test bundle", "pose_backend": "mmpose",
         "models": models, "fusion": None}))
    # The bundle's label maps have no background class, so the content stream runs; on this
    # colour open_nsfw is unsure (0.4 to 0.6), so the time is not content-free and the models'
    # labels stand.
    make_video(tmp_path / "in.mp4", segments=[Scene(9.0, (165, 135, 130), "circle", 440.0)],
               size=(160, 120), fps=10)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_example_runs(workdir, capsys):
    code = readme_example()
    assert len(code.strip().splitlines()) <= 10
    exec(compile(code, "README.md", "exec"), {})
    printed = [line for line in capsys.readouterr().out.splitlines() if " - mmengine - " not in line]
    assert (workdir / "in.srt").read_text().startswith("1\n")
    written = orjson.loads((workdir / "in.json").read_bytes())
    assert len(printed) == len(written["segments"]) + 1  # a line per segment, then the tags
    assert [line.split()[2] for line in printed[:-1]] == [s["label"] for s in written["segments"]]
    tags = eval(printed[-1])  # noqa: S307 - the list the example prints
    assert tags and set(tags) <= set(written["labels"])


def test_library_and_cli_write_the_same_predictions(workdir, capsys):
    import phar_cli as phar

    analysis = phar.load_engine("work_dirs", device="cpu").analyse("in.mp4")
    phar.get_writer("json").write(analysis, phar.segments(analysis), "lib.json")
    code, _, err = run_phar(["-q", "timestamps", "in.mp4", "--bundle", "work_dirs", "--device",
                             "cpu", "-o", "cli.json"], capsys)
    assert code == 0, err
    assert Path("lib.json").read_bytes() == Path("cli.json").read_bytes()


def test_face_names_resolve_and_errors_are_pharerrors(workdir):
    import importlib

    import phar_cli as phar

    assert phar.__version__ == importlib.import_module("phar_cli.version").__version__
    for name in sorted(set(phar.__all__) - {"__version__"}):  # each from the module the face says
        module, _, attr = phar._EXPORTS[name].partition(":")
        value = getattr(phar, name)
        assert value is getattr(importlib.import_module(module), attr or name), name
        assert getattr(value, "__module__", module) == module, f"{name} is {value.__module__}'s"
    with pytest.raises(phar.PharError, match="subclip_len must be positive"):
        phar.load_engine("work_dirs", device="cpu", subclip_len=0)
    with pytest.raises(TypeError, match="unknown engine option"):
        phar.load_engine("work_dirs", subclip=7)
