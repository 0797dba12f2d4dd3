"""A wheel built from this tree works anywhere: it carries the configs (model configs, label maps,
the manifest) as `phar_cli.configs`, and phar installed from it runs outside the checkout.

The tree (tracked files and untracked ones git does not ignore) is copied to a temporary folder
and built there offline (`pip wheel --no-deps --no-build-isolation --no-index`). The wheel goes
into a fresh venv outside the checkout that reuses the OpenMMLab stack already installed beside
the tests: a `.pth` file names this interpreter's site-packages (a plain path line, so the
editable install's finder there does not run and the checkout's phar_cli stays out of reach).
From a folder outside the checkout that venv runs `phar models list`, `phar timestamps` on a
small synthetic video with the small random-weight bundle of tests/conftest.py (configs named
by relative `configs/...` paths, so they are read from the installed package), and
`phar.load_engine(...)` from Python.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from tests.conftest import ROOT, SMALL_CONFIGS, TEST_DEVICE

SKIP_DIRS = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", "work_dirs",
             "phar-out", ".benchmarks"}


def source_files() -> list[Path]:
    """The tree's files, relative to ROOT: git's list where there is one (tracked, and untracked
    files it does not ignore), else every file outside build and cache folders."""
    try:
        done = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                              cwd=ROOT, capture_output=True, check=True, timeout=60)
        files = [Path(p) for p in done.stdout.decode().split("\0") if p]
    except (OSError, subprocess.SubprocessError):
        files = []
        for folder, dirs, names in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
            files += [Path(folder, n).relative_to(ROOT) for n in names]
    return [p for p in files if (ROOT / p).is_file()]  # git lists deleted files too


@dataclass
class Installed:
    wheel: Path
    venv: Path
    site: Path     # the fresh venv's site-packages, where the wheel went
    work: Path     # a working folder outside the checkout
    env: dict[str, str]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def run(self, *argv: str | Path, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in argv], cwd=self.work, env=self.env,
                              capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(ROOT.resolve()), "the tests' tmp dir is in the checkout"
    src = base / "src"
    for rel in source_files():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    wheels = base / "wheels"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")}
    pip = ["-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = subprocess.run([sys.executable, *pip, "wheel", "--no-deps", "--no-build-isolation",
                            "--no-index", "-q", "-w", str(wheels), str(src)],
                           cwd=base, env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = wheels.glob("phar-*.whl")

    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   env=env, timeout=120)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               env=env, capture_output=True, text=True, check=True).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "_phar_test_stack.pth").write_text("".join(f"{p}\n" for p in ours))
    # --ignore-installed: the editable phar seen through the .pth is neither uninstalled nor kept
    done = subprocess.run([py, *pip, "install", "--no-index", "--no-deps", "--ignore-installed",
                           "-q", str(wheel)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

    work = base / "work"
    work.mkdir()
    env.update(PHAR_HOME=str(base / "phar-home"), COLUMNS="200", PYTHONNOUSERSITE="1",
               PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return Installed(wheel, venv, site, work, env)


def test_the_wheel_carries_the_configs_and_every_module(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    configs = [p for p in source_files() if p.parts[0] == "configs"]
    assert {"configs/models.json", "configs/labels/annotations.txt",
            "configs/rgb/timesformer.py", "configs/pose/rtmo-s.py"} <= {p.as_posix() for p in configs}
    missing = [p.as_posix() for p in configs if f"phar_cli/{p.as_posix()}" not in names]
    assert not missing, f"configs missing from the wheel: {missing}"
    modules = [p.as_posix() for p in source_files() if p.parts[0] == "phar_cli"]
    assert [m for m in modules if m not in names] == []
    # only the package: no top-level configs/, tests/ or scripts/
    tops = {n.split("/")[0] for n in names} - {"phar_cli"}
    assert len(tops) == 1 and tops.pop().endswith(".dist-info"), names


def test_the_installed_phar_is_the_wheels_and_reads_its_own_configs(installed):
    script = """
import json, sys
import phar_cli, phar_cli.configs
from mmengine import Config
from phar_cli.core.labels import DEFAULT_LABEL_FILES
from phar_cli.models.registry import DEFAULT_MANIFEST, config_dir, load_manifest
from phar_cli.train.runner import SMALL_CONFIGS
configs = {p.relative_to(config_dir()).as_posix(): len(Config.fromfile(p).to_dict())
           for p in sorted(config_dir().glob("*/*.py"))}
print(json.dumps({
    "phar_cli": phar_cli.__file__, "package": phar_cli.configs.__file__,
    "config_dir": str(config_dir()), "manifest": str(DEFAULT_MANIFEST),
    "entries": {n: [str(e.config_path), str(e.labels_path)] for n, e in load_manifest().items()},
    "labels": [str(p) for p in DEFAULT_LABEL_FILES.values()],
    "small": [str(p) for p in SMALL_CONFIGS.values()],
    "configs": configs,
    "finders": [type(f).__name__ for f in sys.meta_path]}))
"""
    done = installed.run(installed.python, "-c", script)
    assert done.returncode == 0, done.stderr
    got = orjson.loads(done.stdout.splitlines()[-1])
    home = installed.site / "phar_cli"
    assert Path(got["phar_cli"]) == home / "__init__.py"
    assert Path(got["config_dir"]) == home / "configs" == Path(got["package"]).parent
    assert Path(got["manifest"]) == home / "configs" / "models.json"
    paths = [Path(p) for p in [*got["labels"], *got["small"]]]
    paths += [Path(p) for pair in got["entries"].values() for p in pair if p != "None"]
    for p in paths:
        assert p.is_relative_to(home / "configs") and p.is_file(), p
    assert not any("Editable" in f for f in got["finders"]), got["finders"]
    # every config loads with mmengine from the installed folder: `_base_` includes next to it,
    # and RTMO's `mmpose::` base from the installed mmpose
    shipped = {p.relative_to(ROOT / "configs").as_posix()
               for p in (ROOT / "configs").glob("*/*.py")}
    assert set(got["configs"]) == shipped
    assert all(got["configs"].values()), got["configs"]


def test_models_list_runs_outside_the_checkout(installed):
    done = installed.run(installed.venv / "bin" / "phar", "models", "list")
    assert done.returncode == 0, done.stderr
    for name in ("rgb", "skeleton", "audio", "det", "pose"):
        assert f" {name} " in done.stdout, done.stdout
    listed = orjson.loads(installed.run(installed.venv / "bin" / "phar", "models", "list",
                                        "--json").stdout)
    assert [m["name"] for m in listed["models"]][:3] == ["rgb", "skeleton", "audio"]


def model_files(bundle) -> tuple[dict[str, str], dict[str, str]]:
    """The small bundle's models: configs as relative `configs/...` paths (there is no configs/
    folder in the working folder, so phar reads its installed ones), checkpoints absolute."""
    configs = {n: p.relative_to(ROOT).as_posix() for n, p in SMALL_CONFIGS.items()}
    checkpoints = {n: str(bundle.folder / ("rgb_gated.pth" if n == "rgb" else f"{n}.pth"))
                   for n in SMALL_CONFIGS}
    return configs, checkpoints


@pytest.fixture(scope="module")
def video(installed) -> Path:
    from phar_cli.synthetic.video import Scene, make_video

    return make_video(installed.work / "in.mp4", segments=[Scene(7.0, "blue", "circle", 440.0, -12)],
                      size=(160, 120), fps=10)


def test_timestamps_runs_outside_the_checkout(installed, small_bundle, video):
    configs, checkpoints = model_files(small_bundle)
    assert not (installed.work / "configs").exists()
    args = ["--device", TEST_DEVICE]
    for name in SMALL_CONFIGS:
        args += [f"--{name}-config", configs[name], f"--{name}-checkpoint", checkpoints[name]]
    done = installed.run(installed.venv / "bin" / "phar", "-q", "timestamps", video.name,
                         "-o", "out.json", "--pose-score-thr", "0", *args)
    assert done.returncode == 0, done.stderr
    data = orjson.loads((installed.work / "out.json").read_bytes())
    # the prototype's 17 labels, and background where the content stream ran (phar[content])
    assert len(data["labels"]) == 17 + ("content" in data) and data["windows"]
    assert set(data["config"]["models"]) == {"rgb", "skeleton", "audio", "det", "pose"}
    for name, files in data["config"]["models"].items():
        assert Path(files["config"]) == installed.site / "phar_cli" / configs[name], name


def test_load_engine_runs_outside_the_checkout(installed, small_bundle, video):
    configs, checkpoints = model_files(small_bundle)
    script = f"""
import json
import phar_cli as phar
engine = phar.load_engine(None, device={TEST_DEVICE!r}, streams="rgb,audio",
                          configs={configs!r}, checkpoints={checkpoints!r})
analysis = engine.analyse({video.name!r})
print(json.dumps({{"face": phar.__file__, "labels": len(analysis.labels) - bool(analysis.content),
                  "windows": len(analysis.to_dict()["windows"]),
                  "files": {{n: [str(f.config), str(f.labels)] for n, f in engine.options.models.items()}}}}))
"""
    done = installed.run(installed.python, "-c", script)
    assert done.returncode == 0, done.stderr
    got = orjson.loads(done.stdout.splitlines()[-1])
    home = installed.site / "phar_cli"
    assert Path(got["face"]) == home / "__init__.py"
    assert got["labels"] == 17 and got["windows"] >= 1
    assert set(got["files"]) == {"rgb", "audio"}
    for name, (config, labels) in got["files"].items():
        assert Path(config) == home / configs[name]
        assert Path(labels).parent == home / "configs" / "labels", labels
