"""Stash as it runs phar's plugin: the plugin installed by `phar stash plugin install`, its
entry started with the command line phar.yml gives and the JSON Stash writes on standard input
(Stash's `PluginInput`: `server_connection` with the session cookie Stash makes, `args` with the
task's `defaultArgs`), against the test Stash server, which accepts that session and answers
the plugin's settings; scenes whose files are short synthetic videos on disk."""
from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import yaml

from phar_cli.stash_plugin.manifest import install
from phar_cli.synthetic.video import Scene, make_video
from tests.conftest import LABELS, SMALL_CONFIGS
from tests.stash.fake_stash import FakeStash

SESSION = "MTczNTY4OTYwMHxEdi1CQkFFQ180SUFBUkFCRUFBQV9fplugin-session"
SOH, STX = "\x01", "\x02"
LEVELS = {"t": "trace", "d": "debug", "i": "info", "w": "warning", "e": "error", "p": "progress"}


def stash_log_line(line: str) -> tuple[str | None, str]:
    """A stderr line as Stash's `detectLogLevel` (pkg/logger/plugin.go) reads it: SOH, a level
    character, STX, then the message, trimmed; anything else has no level."""
    if len(line) < 4 or line[0] != SOH or line[2] != STX or line[1] not in LEVELS:
        return None, line
    return LEVELS[line[1]], line[3:].strip()


@dataclass
class Run:
    code: int
    output: dict
    log: list[tuple[str | None, str]]

    def messages(self, level: str) -> list[str]:
        return [m for lv, m in self.log if lv == level]

    @property
    def progress(self) -> list[float]:
        return [float(m) for m in self.messages("progress")]


@dataclass
class PluginHarness:
    stash: FakeStash
    plugin_dir: Path
    config_dir: Path

    def stdin(self, args: dict) -> bytes:
        cookie = {"Name": "session", "Value": SESSION, "Quoted": False, "Path": "/",
                  "Domain": "", "Expires": "0001-01-01T00:00:00Z", "RawExpires": "",
                  "MaxAge": 3600, "Secure": False, "HttpOnly": False, "SameSite": 2,
                  "Partitioned": False, "Raw": "", "Unparsed": None}
        port = int(self.stash.url.rsplit(":", 1)[1].split("/")[0])
        return json.dumps({"server_connection": {
            "Scheme": "http", "Host": "0.0.0.0", "Port": port, "SessionCookie": cookie,
            "Dir": str(self.config_dir), "PluginDir": str(self.plugin_dir)},
            "args": args}).encode()

    def command(self) -> list[str]:
        """phar.yml's exec, `{pluginDir}` replaced in the arguments as Stash does."""
        manifest = yaml.safe_load((self.plugin_dir / "phar.yml").read_text())
        return [manifest["exec"][0]] + [a.replace("{pluginDir}", str(self.plugin_dir))
                                        for a in manifest["exec"][1:]]

    def task_args(self, name: str) -> dict:
        manifest = yaml.safe_load((self.plugin_dir / "phar.yml").read_text())
        return dict(next(t for t in manifest["tasks"] if t["name"] == name)["defaultArgs"])

    def start(self, args: dict) -> subprocess.Popen:
        """The task started as Stash starts it: the input written whole, standard input closed.
        Its output is not read: only for tests that kill it."""
        proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                cwd=self.config_dir)
        proc.stdin.write(self.stdin(args))
        proc.stdin.close()
        return proc

    def run(self, task: str | None = None, args: dict | None = None, timeout: float = 600) -> Run:
        proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=self.config_dir)
        out, err = proc.communicate(self.stdin(args if args is not None
                                               else self.task_args(task)), timeout=timeout)
        return Run(proc.returncode, orjson.loads(out),
                   [stash_log_line(line) for line in err.decode().splitlines() if line])


def test_bundle(folder: Path, small_bundle) -> Path:
    """A model bundle of the tests' small random-weight models (RGB: doggy everywhere) that
    names `fondling`, a label they never top, its "nothing happens" class: the content stream,
    on by default only for models without one, stays off, as with a bundle trained with a
    background class (the test videos are abstract shapes it would call content-free)."""
    models = {name: {"config": str(SMALL_CONFIGS[name]),
                     "checkpoint": str(small_bundle.folder / (
                         "rgb_gated.pth" if name == "rgb" else f"{name}.pth"))}
              for name in SMALL_CONFIGS}
    for stream in LABELS:
        models[stream]["labels"] = str(LABELS[stream])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bundle.json").write_text(json.dumps({
        "schema": "phar.bundle/1", "name": "plugin test bundle", "pose_backend": "mmpose",
        "background": "fondling", "models": models}))
    return folder


@pytest.fixture(scope="session")
def scene_videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scene-videos")
    videos = {name: make_video(folder / f"{name}.mp4", size=(160, 120),
                               segments=[Scene(4, colour, "circle", hz, -20)])
              for name, colour, hz in (("one", "red", 440.0), ("two", "green", 660.0),
                                       ("three", "blue", 880.0))}
    broken = folder / "broken.mp4"
    broken.write_bytes(videos["one"].read_bytes()[:3000])
    videos["broken"] = broken
    return videos


@contextlib.contextmanager
def stash_with_plugin(root: Path, settings: dict) -> Iterator[PluginHarness]:
    """A test Stash that wants credentials, phar's plugin installed in its plugins folder with
    these settings saved, its output folder under `root`."""
    stash = FakeStash(api_key="test-key-7f3a9c", session=SESSION)  # the plugin sends no key
    stash.start()
    try:
        plugins = root / "stash-config" / "plugins"
        plugins.mkdir(parents=True)
        folder = install(plugins)
        stash.plugin_settings["phar"] = {"output_dir": str(root / "phar-out"), "device": "cpu",
                                         **settings}
        yield PluginHarness(stash, folder, plugins.parent)
    finally:
        stash.stop()


@pytest.fixture
def plugin(tmp_path, small_bundle) -> Iterator[PluginHarness]:
    bundle = test_bundle(tmp_path / "bundle", small_bundle)
    with stash_with_plugin(tmp_path, {"profile": "reference", "bundle": str(bundle)}) as harness:
        yield harness
