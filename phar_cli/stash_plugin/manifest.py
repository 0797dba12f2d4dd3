"""The plugin folder phar installs into Stash's plugins folder: `phar/phar.yml` (Stash's plugin
manifest, `ui/v2.5/src/docs/en/Manual/Plugins.md` in Stash's repository) and `phar_plugin.py`,
the entry script. The manifest runs the entry script with the Python phar is installed in (by
its absolute path: Stash substitutes `{pluginDir}` in the arguments only, and runs a bare
`python` with its own interpreter, which may not have phar).

Stash reads manifests strictly (an unknown key stops the plugin loading), so only its keys are
written; `defaultArgs` values reach the plugin as strings.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson

from phar_cli.errors import PharError
from phar_cli.version import __version__

PLUGIN_ID = "phar"          # Stash's plugin id is the manifest's file name
ENTRY = "phar_plugin.py"
QUEUE_HOOK = "Queue new scenes"


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    arg: str                  # the `task` argument Stash passes to the entry script


TASKS = (
    Task("Analyse queued scenes", "Analyse the scenes tagged with the queue tag, put their "
         "segments into Stash as markers and tags, and untag them.", "analyse-queued"),
    Task("Analyse all unanalysed scenes", "Analyse every scene without phar's status tag and "
         "put the results into Stash.", "analyse-all"),
    Task("Push results", "Put an existing phar batch output folder (the output folder "
         "setting) into Stash as markers and tags.", "push"),
    Task("Pull corrections", "Write the markers people made or flagged to a CSV of "
         "annotations in the output folder, for training.", "pull"),
    Task("Recommend", "The scenes you have not played that are most like the ones you did: "
         "in the log and as recommendations.json in the output folder. Changes nothing.",
         "recommend"),
    Task("Remove what phar made", "Delete phar's markers that nobody edited, and take phar's "
         "tags off scenes and out of Stash. Markers people made or edited stay.", "undo"),
)


@dataclass(frozen=True)
class Setting:
    key: str
    name: str
    description: str
    type: str = "STRING"      # STRING, NUMBER or BOOLEAN (Stash's setting types)


SETTINGS = (
    Setting("output_dir", "Output folder", "Where phar keeps its catalog, predictions and "
            "reports (default: phar-out in Stash's configuration folder)."),
    Setting("profile", "Profile", "fast (default) or reference (the seed's settings, slower)."),
    Setting("device", "Device", "auto (default), cpu, cuda or cuda:N."),
    Setting("bundle", "Model bundle", "A model bundle folder (phar train); default: the seed's "
            "models in PHAR_HOME."),
    Setting("phar_home", "PHAR_HOME", "Where phar keeps its models (default ~/.cache/phar)."),
    Setting("min_score", "Minimum segment score", "A segment becomes a marker from this fused "
            "score (default 0.5).", "NUMBER"),
    Setting("queue_tag", "Queue tag", "Scenes with this tag are analysed by 'Analyse queued "
            "scenes' (default 'phar: queue')."),
    Setting("error_tag", "Error tag", "Put on scenes whose file phar cannot analyse (default "
            "'phar: error')."),
    Setting("queue_new_scenes", "Queue new scenes", "Give new scenes the queue tag when Stash "
            "creates them (the hook only tags; it never analyses).", "BOOLEAN"),
    Setting("stash_settings", "Per-label rules", "A .csv or .toml file of per-label rules for "
            "markers and scene tags (README: Stash)."),
    Setting("api_key", "API key", "Only if the session Stash gives the plugin is not enough."),
    Setting("path_map", "Path map", "LOCAL=REMOTE (several separated by ';') when phar sees "
            "Stash's files at another place."),
)


def manifest_text(python: str | None = None) -> str:
    """phar.yml for an entry script run by `python` (default: this interpreter)."""
    python = python or sys.executable
    q = _quoted
    about = (f"What happens in each video, and when: markers, tags, recommendations "
             f"(phar {__version__}).")
    lines = [f"name: {q('phar')}", f"description: {q(about)}", f"version: {q(__version__)}",
             f"exec: [{q(python)}, {q('{pluginDir}/' + ENTRY)}]",
             "interface: raw", "errLog: warning", "tasks:"]
    for task in TASKS:
        lines += [f"  - name: {q(task.name)}", f"    description: {q(task.description)}",
                  "    defaultArgs:", f"      task: {q(task.arg)}"]
    lines += ["hooks:", f"  - name: {q(QUEUE_HOOK)}",
              f"    description: {q('Tag new scenes for phar when the setting says so.')}",
              "    triggeredBy:", "      - Scene.Create.Post", "    defaultArgs:",
              f"      task: {q('queue-new')}", "settings:"]
    for s in SETTINGS:
        lines += [f"  {s.key}:", f"    displayName: {q(s.name)}",
                  f"    description: {q(s.description)}", f"    type: {s.type}"]
    return "\n".join(lines) + "\n"


ENTRY_TEXT = '''"""phar's Stash plugin: Stash runs this with the Python phar is installed in (phar.yml)."""
from phar_cli.stash_plugin.main import main

main()
'''


def install(plugins_dir: str | os.PathLike[str], python: str | None = None) -> Path:
    """Write `plugins_dir/phar/` (replacing only that folder) and return it."""
    plugins = Path(plugins_dir).expanduser()
    if not plugins.is_dir():
        raise PharError(f"{plugins}: no such folder (Stash's plugins folder is 'plugins' in its "
                        "configuration folder, e.g. ~/.stash/plugins)")
    target = plugins / PLUGIN_ID
    staging = None
    try:  # written beside it, then swapped in: a failed install leaves the old plugin whole
        staging = Path(tempfile.mkdtemp(prefix=".phar-plugin-", dir=plugins))
        (staging / f"{PLUGIN_ID}.yml").write_text(manifest_text(python), encoding="utf-8")
        (staging / ENTRY).write_text(ENTRY_TEXT, encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        target.chmod(0o755)  # mkdtemp made it private; Stash may run as another user
    except OSError as ex:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise PharError(f"{target}: cannot write the plugin ({ex.strerror or ex})") from ex
    return target


def _quoted(text: str) -> str:
    """A YAML scalar that reads back as `text` (a JSON string is one)."""
    return orjson.dumps(text).decode()
