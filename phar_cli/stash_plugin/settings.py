"""The plugin's settings, as Stash's UI saves them (`configuration { plugins }`: a setting
never saved is absent; NUMBER and BOOLEAN come typed), with phar's defaults for the rest."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phar_cli.core.profiles import PROFILES, check_profile
from phar_cli.errors import InvalidOption, UsageError
from phar_cli.stash_plugin.manifest import SETTINGS

DEFAULT_OUTPUT = "phar-out"        # in Stash's configuration folder
DEFAULT_PROFILE = "fast"           # a library in Stash: speed first
DEFAULT_QUEUE_TAG = "phar: queue"
DEFAULT_ERROR_TAG = "phar: error"


@dataclass(frozen=True)
class PluginSettings:
    output_dir: Path
    profile: str = DEFAULT_PROFILE
    device: str = "auto"
    bundle: str | None = None
    phar_home: str | None = None
    min_score: float | None = None
    queue_tag: str = DEFAULT_QUEUE_TAG
    error_tag: str = DEFAULT_ERROR_TAG
    queue_new_scenes: bool = False
    stash_settings: str | None = None
    api_key: str | None = None
    path_map: tuple[str, ...] = ()


def plugin_settings(saved: dict[str, Any], config_dir: str | None) -> PluginSettings:
    """Settings from what Stash saved (unknown keys ignored: an older phar's), checked."""
    known = {s.key for s in SETTINGS}
    given = {k: v for k, v in saved.items() if k in known and v not in (None, "")}
    text = {k: str(v).strip() for k, v in given.items() if isinstance(v, str)}
    output = text.get("output_dir") or os.path.join(config_dir or os.getcwd(), DEFAULT_OUTPUT)
    profile = text.get("profile", DEFAULT_PROFILE).lower()
    try:
        check_profile(profile)
    except InvalidOption as ex:
        raise UsageError(f"phar plugin setting 'Profile': {profile!r}: use "
                         f"{' or '.join(PROFILES)}") from ex
    min_score = given.get("min_score")
    if min_score is not None and (isinstance(min_score, bool) or not isinstance(
            min_score, (int, float)) or not 0 <= min_score <= 1):
        raise UsageError(f"phar plugin setting 'Minimum segment score': {min_score!r}: a number "
                         "from 0 to 1")
    maps = tuple(m.strip() for m in text.get("path_map", "").split(";") if m.strip())
    return PluginSettings(
        Path(output).expanduser(), profile, text.get("device", "auto"), text.get("bundle"),
        text.get("phar_home"), float(min_score) if min_score is not None else None,
        text.get("queue_tag", DEFAULT_QUEUE_TAG), text.get("error_tag", DEFAULT_ERROR_TAG),
        given.get("queue_new_scenes") is True, text.get("stash_settings"), text.get("api_key"),
        maps)
