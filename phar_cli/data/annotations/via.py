"""VIA 3's segment model, shared by the project and CSV-export readers: attribute definitions,
temporal coordinates, and which attribute's value is the label.

A label is the value of the segment's label attribute: either an option id of that attribute
(`{"1": "3"}` with option "3" = "doggy") or free text (`{"1": "doggy"}`); it is stored in its
canonical spelling ('_' and '-' are one label). The label attribute is the one `label_attribute`
names (by name or id) when given; else the segment's only attribute; else its only temporal-segment
attribute (`VIA_TEMPORAL_ANCHOR`); else its only one named like a label (`LABEL_ATTRIBUTE_NAMES`).
"""
from __future__ import annotations

import math
from typing import Any

from phar_cli.core.labels import canonical
from phar_cli.data.annotations.common import _RowError

LABEL_ATTRIBUTE_NAMES = ("activity", "action", "label", "class", "category")
VIA_TEMPORAL_ANCHOR = "FILE1_Z2_XY0"  # VIA 3: "Temporal Segment in Video or Audio"


class _Skip(Exception):
    """A VIA entry that is not a temporal segment (a spatial region, a file attribute)."""


def _attributes(raw: Any) -> dict[str, dict[str, Any]]:
    """Attribute id -> {aname, type, anchor_id, options}; accepts VIA's full attribute objects
    and the older `{id: name}` form of CSV exports."""
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(raw, dict):
        return out
    for aid, attr in raw.items():
        if isinstance(attr, dict):
            options = attr.get("options") if isinstance(attr.get("options"), dict) else {}
            out[str(aid)] = {"aname": str(attr.get("aname", aid)), "type": attr.get("type"),
                             "anchor_id": attr.get("anchor_id"),
                             "options": {str(k): str(v) for k, v in options.items()}}
        else:
            out[str(aid)] = {"aname": str(attr), "type": None, "anchor_id": None, "options": {}}
    return out


def _temporal(z: Any, xy: Any) -> tuple[float, float]:
    if not isinstance(z, list):
        raise _RowError("temporal coordinates are not a list")
    if xy and len(z) < 2:
        raise _Skip  # a spatial region on a frame, not a temporal segment
    if len(z) == 0:
        raise _Skip  # an attribute of the whole file
    if len(z) == 1:
        raise _RowError("empty: a single time point, not a segment")
    if len(z) != 2:
        raise _RowError(f"temporal coordinates have {len(z)} values, not [start, end]")
    try:
        start, end = (float(v) for v in z)
    except (TypeError, ValueError):
        raise _RowError(f"temporal coordinates are not numbers: {z}") from None
    if not (math.isfinite(start) and math.isfinite(end)):
        raise _RowError(f"temporal coordinates are not finite: {z}")
    return start, end


def _label(av: Any, attributes: dict[str, dict[str, Any]], label_attribute: str | None) -> str:
    if not isinstance(av, dict):
        raise _RowError("metadata is not an object")
    if not av:
        raise _RowError("no label (metadata is empty)")
    key = _label_key(av, attributes, label_attribute)
    attr = attributes.get(key, {})
    value = av[key]
    if isinstance(value, dict):  # checkbox form {option id: true}
        chosen = [k for k, v in value.items() if v]
        if len(chosen) != 1:
            raise _RowError(f"attribute {key!r} has {len(chosen)} options set, not one")
        value = chosen[0]
    if isinstance(value, (list, bool)) or value is None:
        raise _RowError(f"attribute {key!r} has no usable value: {value!r}")
    text = str(value).strip()
    options = attr.get("options") or {}
    if text in options:
        text = options[text]
    elif attr.get("type") == 2 and "," in text:  # checkbox ids joined by commas
        raise _RowError(f"attribute {key!r} has several options set: {text}")
    label = canonical(text)
    if not label:
        raise _RowError("no label (empty value)")
    return label


def _label_key(av: dict[str, Any], attributes: dict[str, dict[str, Any]],
               label_attribute: str | None) -> str:
    def name(key: str) -> str:
        return str(attributes.get(key, {}).get("aname", key))

    if label_attribute is not None:
        wanted = label_attribute.strip().lower()
        for key in av:
            if key.lower() == wanted or name(key).lower() == wanted:
                return key
        raise _RowError(f"no value for the label attribute {label_attribute!r}")
    keys = list(av)
    if len(keys) == 1:
        return keys[0]
    temporal = [k for k in keys if attributes.get(k, {}).get("anchor_id") == VIA_TEMPORAL_ANCHOR]
    if len(temporal) == 1:
        return temporal[0]
    named = [k for k in keys if name(k).lower() in LABEL_ATTRIBUTE_NAMES]
    if len(named) == 1:
        return named[0]
    raise _RowError(f"several attributes ({', '.join(name(k) for k in keys)}); "
                    f"say which one holds the label (label_attribute)")
