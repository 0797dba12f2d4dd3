"""The plugin's entry point (`phar_plugin.py` calls `main`): read Stash's input, connect with
the session it hands over, read the plugin's settings, run the task, print the result.

Every failure ends as Stash expects: the one-line error in the result's `error` (Stash logs it)
and an error log line, exit code 1; never a traceback on standard error (unless PHAR_DEBUG).
"""
from __future__ import annotations

import logging
import os
import sys
import traceback
from typing import Any

from phar_cli.errors import PharError
from phar_cli.stash_plugin.manifest import PLUGIN_ID
from phar_cli.stash_plugin.protocol import PluginLog, read_input, result


class _ToStash(logging.Handler):
    """phar's own log messages (warnings and up) as Stash log lines."""

    def __init__(self, log: PluginLog) -> None:
        super().__init__(logging.WARNING)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        self.log.warning(record.getMessage())


def main() -> None:
    log = PluginLog()
    logging.getLogger("phar").addHandler(_ToStash(log))
    logging.getLogger("phar").propagate = False
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    code = 0
    try:
        output: Any = run(sys.stdin.buffer.read(), log)
        error = None
    except PharError as ex:
        output, error, code = None, " ".join(str(ex).split()), 1
    except Exception as ex:  # noqa: BLE001 - Stash shows only the result's error line
        output, error, code = None, f"{type(ex).__name__}: {' '.join(str(ex).split())}", 1
        if os.environ.get("PHAR_DEBUG"):
            traceback.print_exc()
    if error:
        log.error(error)
    sys.stdout.buffer.write(result(output, error))
    sys.stdout.flush()
    sys.exit(code)


def run(raw: bytes, log: PluginLog) -> Any:
    from phar_cli.stash.api import StashApi
    from phar_cli.stash.client import StashClient
    from phar_cli.stash_plugin.settings import plugin_settings
    from phar_cli.stash_plugin.tasks import Context, run_task

    source = read_input(raw)
    with StashApi(StashClient(source.url, None, session_cookie=source.session)) as api:
        settings = plugin_settings(api.plugin_settings(PLUGIN_ID), source.config_dir)
    # an API key, where the settings have one, goes with the session (Stash checks it first)
    with StashApi(StashClient(source.url, settings.api_key,
                              session_cookie=source.session)) as api:
        return run_task(Context(api, settings, log, source))
