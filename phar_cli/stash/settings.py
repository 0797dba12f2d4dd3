"""Per-label rules for what a push writes to Stash, read from a CSV or TOML file (`--settings`).

Every rule has a default taken from `phar filter` and `phar tags`, so a file only names what it
changes: a segment becomes a marker when its mean score reaches `threshold` (0.5, the filter's),
same-label markers closer than `max_gap` seconds are joined (0) and shorter ones than
`min_marker_seconds` dropped (0); a label becomes a scene tag when it is among the
`scene_tags_topk` (3, as `phar tags`) labels with the most marker seconds and has at least
`min_scene_seconds` (0) of them. The filter's non-sexual labels (other, miscellaneous, non-sexual)
get no markers and no scene tag unless their own entry says so; `background` never gets either.

CSV: a header with `label` and any of the rule columns; empty cells keep the default; the label
`*` sets the defaults of every label. TOML: the same rules under `[defaults]` and
`[labels.NAME]`, and the names phar uses on the server at the top (`parent_tag`, `status_tag`,
`incorrect_tag`, `negative_label`, `scene_tags_topk`).
"""
from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from phar_cli.core.cutlist import DEFAULT_NONSEXUAL
from phar_cli.core.labels import canonical
from phar_cli.defaults import DEFAULT_BACKGROUND
from phar_cli.errors import PharError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

BACKGROUND = DEFAULT_BACKGROUND  # "nothing of interest here": never a marker, never a tag
DEFAULT_PARENT_TAG = "phar"
DEFAULT_NEGATIVE_LABEL = "incorrect"
DEFAULT_SCENE_TAGS_TOPK = 3

_BOOLS = {"true": True, "yes": True, "on": True, "1": True,
          "false": False, "no": False, "off": False, "0": False}
_GLOBALS = {"parent_tag", "status_tag", "incorrect_tag", "negative_label", "scene_tags_topk"}


class SettingsError(PharError):
    """A settings file that cannot be read or holds a value phar cannot use."""


@dataclass(frozen=True)
class LabelRule:
    tag: str                          # the Stash tag of the label's markers and scene tag
    markers: bool = True
    scene_tag: bool = True
    min_marker_seconds: float = 0.0
    max_gap: float = 0.0
    min_scene_seconds: float = 0.0
    threshold: float = 0.5


_RULE_FIELDS = {name: f.type for name, f in LabelRule.__dataclass_fields__.items()}


@dataclass(frozen=True)
class StashSettings:
    defaults: dict[str, Any] = field(default_factory=dict)          # rule fields for every label
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> its own fields
    parent_tag: str = DEFAULT_PARENT_TAG
    status_tag: str | None = None       # default: "<parent>: analysed"
    incorrect_tag: str | None = None    # default: "<parent>: incorrect"
    negative_label: str = DEFAULT_NEGATIVE_LABEL
    scene_tags_topk: int = DEFAULT_SCENE_TAGS_TOPK   # 0: every label that passes
    source: str = "<defaults>"

    @property
    def status(self) -> str:
        return self.status_tag or f"{self.parent_tag}: analysed"

    @property
    def incorrect(self) -> str:
        return self.incorrect_tag or f"{self.parent_tag}: incorrect"

    def with_parent(self, parent_tag: str | None) -> StashSettings:
        """These settings under another parent tag (`--parent-tag`), if one is given."""
        if parent_tag is None:
            return self
        if not parent_tag.strip():
            raise SettingsError("--parent-tag: give a tag name")
        return replace(self, parent_tag=parent_tag.strip())

    def rule(self, label: str) -> LabelRule:
        label = canonical(label)
        fields: dict[str, Any] = {"tag": label, **self.defaults}
        if label in DEFAULT_NONSEXUAL:
            fields.update(markers=False, scene_tag=False)
        fields.update(self.labels.get(label, {}))
        if label == BACKGROUND:
            fields.update(markers=False, scene_tag=False)
        return LabelRule(**fields)

    def tags(self, labels: list[str]) -> dict[str, str]:
        """Label -> tag name for these labels; two labels on one tag, or a label on one of
        phar's own tags, would mix up what the tags mean."""
        reserved = {self.parent_tag.casefold(), self.status.casefold(), self.incorrect.casefold()}
        seen: dict[str, str] = {}
        out: dict[str, str] = {}
        for label in labels:
            tag = self.rule(label).tag
            key = tag.casefold()
            if key in reserved:
                raise SettingsError(f"{self.source}: label {label} uses tag {tag!r}, one of "
                                    "phar's own tags (parent, status, incorrect)")
            if key in seen and seen[key] != canonical(label):
                raise SettingsError(f"{self.source}: labels {seen[key]} and {canonical(label)} "
                                    f"both use tag {tag!r}")
            seen[key] = canonical(label)
            out[canonical(label)] = tag
        return out


def load_settings(path: str | Path | None) -> StashSettings:
    """The settings in a .csv or .toml file; the defaults without one."""
    if path is None:
        return StashSettings()
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as ex:
        raise SettingsError(f"{path}: cannot read the settings ({ex.strerror or ex})") from ex
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return _from_toml(raw, str(path))
    if suffix == ".csv":
        return _from_csv(raw, str(path))
    raise SettingsError(f"{path}: settings must be a .csv or a .toml file")


def _from_toml(raw: bytes, source: str) -> StashSettings:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as ex:
        raise SettingsError(f"{source}: not a TOML file ({ex})") from ex
    unknown = sorted(set(data) - _GLOBALS - {"defaults", "labels"})
    if unknown:
        raise SettingsError(f"{source}: unknown setting {', '.join(unknown)} (known: "
                            f"{', '.join(sorted(_GLOBALS))}, [defaults], [labels.NAME])")
    defaults = _rule_fields(_table(data, "defaults", source), f"{source}: [defaults]", True)
    labels = {}
    for name, entry in _table(data, "labels", source).items():
        where = f"{source}: [labels.{name}]"
        if not isinstance(entry, dict):
            raise SettingsError(f"{where}: must be a table of rules")
        labels[canonical(name)] = _rule_fields(entry, where, False)
    names = {key: _name(data[key], f"{source}: {key}") for key in
             ("parent_tag", "status_tag", "incorrect_tag", "negative_label") if key in data}
    topk = data.get("scene_tags_topk", DEFAULT_SCENE_TAGS_TOPK)
    if isinstance(topk, bool) or not isinstance(topk, int) or topk < 0:
        raise SettingsError(f"{source}: scene_tags_topk must be a whole number >= 0 (0: no limit)")
    return _checked(StashSettings(defaults, labels, scene_tags_topk=topk, source=source, **names))


def _from_csv(raw: bytes, source: str) -> StashSettings:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as ex:
        raise SettingsError(f"{source}: not a UTF-8 text file ({ex.reason})") from ex
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    if "label" not in columns:
        raise SettingsError(f"{source}: the header must name a 'label' column (and any of "
                            f"{', '.join(_RULE_FIELDS)})")
    unknown = [c for c in columns if c != "label" and c not in _RULE_FIELDS]
    if unknown:
        raise SettingsError(f"{source}: unknown column {', '.join(unknown)} "
                            f"(known: label, {', '.join(_RULE_FIELDS)})")
    defaults: dict[str, Any] = {}
    labels: dict[str, dict[str, Any]] = {}
    for row in reader:
        where = f"{source}:{reader.line_num}"
        cells = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if None in row:
            raise SettingsError(f"{where}: more cells than the header has columns")
        label = cells.pop("label", "")
        if not label:
            raise SettingsError(f"{where}: no label")
        given = {k: _csv_value(k, v, where) for k, v in cells.items() if v}
        if label == "*":
            defaults.update(_rule_fields(given, where, True))
        else:
            if canonical(label) in labels:
                raise SettingsError(f"{where}: label {label} is listed twice")
            labels[canonical(label)] = _rule_fields(given, where, False)
    return _checked(StashSettings(defaults, labels, source=source))


def _csv_value(name: str, text: str, where: str) -> Any:
    kind = _RULE_FIELDS[name]
    if kind == "bool":
        if text.lower() not in _BOOLS:
            raise SettingsError(f"{where}: {name} must be true or false, not {text!r}")
        return _BOOLS[text.lower()]
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise SettingsError(f"{where}: {name} must be a number, not {text!r}") from None
    return text


def _rule_fields(entry: dict[str, Any], where: str, defaults: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in entry.items():
        kind = _RULE_FIELDS.get(name)
        if kind is None:
            raise SettingsError(f"{where}: unknown rule {name} (known: {', '.join(_RULE_FIELDS)})")
        if name == "tag":
            if defaults:
                raise SettingsError(f"{where}: tag names one label's tag; it cannot be a default")
            out[name] = _name(value, f"{where}: tag")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise SettingsError(f"{where}: {name} must be true or false")
            out[name] = value
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise SettingsError(f"{where}: {name} must be a number >= 0")
            if name == "threshold" and value > 1:
                raise SettingsError(f"{where}: threshold must be between 0 and 1 (got {value})")
            out[name] = float(value)
    return out


def _table(data: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise SettingsError(f"{source}: {key} must be a table ([{key}])")
    return value


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{where} must be a non-empty text")
    return value.strip()


def _checked(settings: StashSettings) -> StashSettings:
    background = settings.labels.get(BACKGROUND, {})
    if background.get("markers") or background.get("scene_tag"):
        raise SettingsError(f"{settings.source}: label {BACKGROUND} never becomes a marker or a "
                            "scene tag (it means nothing of interest)")
    return settings
