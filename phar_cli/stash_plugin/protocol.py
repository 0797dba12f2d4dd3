"""How Stash talks to a raw-interface plugin process (Stash's `pkg/plugin/raw.go`,
`pkg/plugin/common/msg.go`, `pkg/logger/plugin.go`):

- standard input: one JSON document, `{"server_connection": {"Scheme", "Host", "Port",
  "SessionCookie": {"Name", "Value", ...}, "Dir", "PluginDir"}, "args": {...}}`; a task's
  args are its `defaultArgs` (strings), a hook's add `hookContext` (`id`, `type`, `input`);
- standard error: log lines `\\x01` + level (t, d, i, w, e; `p` with a 0-1 fraction: the job's
  progress) + `\\x02` + message; lines without the prefix are logged at the manifest's
  `errLog` level;
- standard output: `{"output": ..., "error": ...}`, read whole when the process ends.

Stash binds to `Host` (0.0.0.0 by default): the plugin connects to localhost then.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

import orjson

from phar_cli.errors import PharError

SOH, STX = "\x01", "\x02"
LEVELS = {"trace": "t", "debug": "d", "info": "i", "warning": "w", "error": "e", "progress": "p"}
ANY_HOST = {"", "0.0.0.0", "::", "[::]"}


class PluginInputError(PharError):
    """Standard input that is not what Stash sends a plugin."""


@dataclass(frozen=True)
class PluginInput:
    url: str                      # the server, as the plugin reaches it
    session: str | None           # the session cookie's value
    config_dir: str | None        # Stash's configuration folder
    plugin_dir: str | None
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def task(self) -> str:
        return str(self.args.get("task", ""))

    @property
    def hook(self) -> dict[str, Any] | None:
        context = self.args.get("hookContext")
        return context if isinstance(context, dict) else None


def read_input(text: str | bytes) -> PluginInput:
    try:
        data = orjson.loads(text)
        connection = data["server_connection"]
        scheme = str(connection.get("Scheme") or "http")
        host = str(connection.get("Host") or "")
        port = int(connection["Port"])
        cookie = connection.get("SessionCookie") or {}
        args = data.get("args") or {}
        if not isinstance(args, dict) or not isinstance(cookie, dict):
            raise TypeError("args and SessionCookie must be objects")
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as ex:
        raise PluginInputError(f"standard input is not a Stash plugin input ({ex}); phar's "
                               "plugin is run by Stash (Settings > Tasks)") from ex
    host = "localhost" if host in ANY_HOST else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return PluginInput(f"{scheme}://{host}:{port}", cookie.get("Value") or None,
                       connection.get("Dir"), connection.get("PluginDir"), args)


class PluginLog:
    """Log lines and progress for Stash's job queue, on standard error."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    def _line(self, level: str, message: str) -> None:
        for line in str(message).splitlines() or [""]:  # one prefix per line: Stash reads lines
            self.stream.write(f"{SOH}{LEVELS[level]}{STX}{line}\n")
        self.stream.flush()

    def info(self, message: str) -> None:
        self._line("info", message)

    def warning(self, message: str) -> None:
        self._line("warning", message)

    def error(self, message: str) -> None:
        self._line("error", message)

    def debug(self, message: str) -> None:
        self._line("debug", message)

    def progress(self, fraction: float) -> None:
        value = 0.0 if not math.isfinite(fraction) else min(1.0, max(0.0, fraction))
        self._line("progress", f"{value:.4f}")


def result(output: Any = None, error: str | None = None) -> bytes:
    """What the plugin prints on standard output when it ends."""
    return orjson.dumps({"output": output, "error": error}) + b"\n"

