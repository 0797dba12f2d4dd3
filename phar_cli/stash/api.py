"""The Stash operations phar uses, each one GraphQL document with Stash's own names (from its
published schema, `graphql/schema/`), returning small records instead of raw JSON.

Stash's string filters with EQUALS are SQL `LIKE` (case-insensitive, `_` and `%` are wildcards),
so every lookup by name or path is checked again here for the exact value.

A scene's watch history (`play_history`, `o_history`, Stash 0.25+) comes as `Time` values, RFC 3339
with whatever UTC offset the server has; they are read as timezone-aware UTC datetimes.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

from phar_cli.stash.client import StashClient, StashServerError

_TAG = "id name"
_MARKER = ("id title seconds {end} created_at updated_at primary_tag {{ id name }} "
           "tags {{ id name }}")
_FILES = "files { path size duration }"
_HISTORY = "play_count o_counter rating100 last_played_at play_history o_history"
HISTORY_PAGE = 1000   # scenes per findScenes request when reading every scene's history
# RFC 3339 as Go's time.RFC3339Nano writes it: up to 9 fraction digits, Z or +hh:mm
_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)")
_T = TypeVar("_T")   # what a page of scenes is parsed into


@dataclass(frozen=True)
class Tag:
    id: str
    name: str
    # read by tags_under only, so not part of a tag's identity: equal tags stay equal
    description: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SceneFile:
    path: str
    size: int | None
    duration: float | None


@dataclass(frozen=True)
class Marker:
    id: str
    title: str
    seconds: float
    end_seconds: float | None
    primary_tag: Tag
    tags: tuple[Tag, ...]        # besides the primary tag (Stash never repeats it here)
    created_at: str
    updated_at: str
    scene_id: str | None = None
    files: tuple[SceneFile, ...] = ()   # the scene's files (findSceneMarkers only)

    def has(self, tag: Tag | None) -> bool:
        return tag is not None and (tag.id == self.primary_tag.id or
                                    any(t.id == tag.id for t in self.tags))

    @property
    def edited(self) -> bool:
        """Changed since it was made: phar never edits a marker, so a person did."""
        return self.updated_at != self.created_at


@dataclass(frozen=True)
class Scene:
    id: str
    title: str | None
    files: tuple[SceneFile, ...]
    tags: tuple[Tag, ...]
    markers: tuple[Marker, ...]


@dataclass(frozen=True)
class SceneHistory:
    """What a viewer did with one scene; times are UTC, histories newest first (Stash's order)."""
    id: str
    title: str | None
    files: tuple[SceneFile, ...]
    play_count: int
    o_counter: int
    rating100: int | None          # 1-100, None when not rated
    last_played_at: datetime | None
    play_history: tuple[datetime, ...]
    o_history: tuple[datetime, ...]


class StashApi:
    """Typed calls on one server. `end_seconds` says whether its markers have end times (Stash
    added them in 2024): asked once, from the server's own schema."""

    def __init__(self, client: StashClient) -> None:
        self.client = client
        self._end_seconds: bool | None = None

    @property
    def where(self) -> str:
        return self.client.where

    def vr_tag(self) -> str | None:
        """The tag Stash's player takes for VR scenes (Settings > Interface > VR tag), if set."""
        ui = self.client.query("query PharUi { configuration { ui } }")["configuration"]["ui"]
        name = ui.get("vrTag") if isinstance(ui, dict) else None
        return str(name).strip() or None if name else None

    def __enter__(self) -> StashApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    @property
    def end_seconds(self) -> bool:
        if self._end_seconds is None:
            data = self.client.query(
                'query PharSchema { marker: __type(name: "SceneMarker") { fields { name } } '
                'input: __type(name: "SceneMarkerCreateInput") { inputFields { name } } }')
            marker, create = data.get("marker") or {}, data.get("input") or {}
            if not marker or not create:
                raise StashServerError(f"{self.where} has no scene markers in its schema "
                                       "(is this Stash's address?)")
            self._end_seconds = (any(f["name"] == "end_seconds" for f in marker["fields"]) and
                                 any(f["name"] == "end_seconds" for f in create["inputFields"]))
        return self._end_seconds

    # -- scenes -------------------------------------------------------------------------------

    def scene_by_path(self, path: str) -> Scene | None:
        data = self.client.query(
            f"query PharSceneByPath($path: String!) {{ findScenes(scene_filter: {{path: "
            f"{{value: $path, modifier: EQUALS}}}}, filter: {{per_page: 100}}) {{ scenes "
            f"{{ {self._scene()} }} }} }}", {"path": path})
        scenes = [self._parse_scene(s) for s in data["findScenes"]["scenes"]]
        exact = [s for s in scenes if any(f.path == path for f in s.files)]
        return exact[0] if exact else None

    def scene_by_oshash(self, oshash: str) -> Scene | None:
        data = self.client.query(
            f"query PharSceneByHash($hash: String!) {{ findSceneByHash(input: {{oshash: $hash}}) "
            f"{{ {self._scene()} }} }}", {"hash": oshash})
        scene = data.get("findSceneByHash")
        return self._parse_scene(scene) if scene else None

    def add_scene_tags(self, scene_id: str, tag_ids: list[str]) -> None:
        self._scene_tags(scene_id, tag_ids, "ADD")

    def remove_scene_tags(self, scene_id: str, tag_ids: list[str]) -> None:
        self._scene_tags(scene_id, tag_ids, "REMOVE")

    def _scene_tags(self, scene_id: str, tag_ids: list[str], mode: str) -> None:
        """ADD/REMOVE only the tags named: a person's tags are never part of the write."""
        self.client.mutate(
            "mutation PharSceneTags($input: BulkSceneUpdateInput!) { bulkSceneUpdate(input: "
            "$input) { id } }",
            {"input": {"ids": [scene_id], "tag_ids": {"ids": tag_ids, "mode": mode}}})

    def scene_url(self, scene_id: str) -> str:
        """The scene's page in Stash's web interface (no credentials in it)."""
        base = self.client.shown.rstrip("/")
        return f"{base.removesuffix('/graphql')}/scenes/{scene_id}"

    def scene_histories(self) -> list[SceneHistory]:
        """Every scene of the server with its plays, O's and rating: queries only, page by page
        in id order (stable while paging), until a page comes back short."""
        return self._all_scenes(
            f"query PharSceneHistories($filter: FindFilterType) {{ findScenes(filter: "
            f"$filter) {{ scenes {{ id title {_FILES} {_HISTORY} }} }} }}", {},
            self._parse_history)

    def scenes_tagged(self, tag_id: str, *, exclude: bool = False) -> list[Scene]:
        """Every scene that has the tag (exclude=True: that has not), with its files, tags and
        markers, page by page as `scene_histories` reads them."""
        return self._all_scenes(
            f"query PharScenesTagged($tags: [ID!], $modifier: CriterionModifier!, $filter: "
            f"FindFilterType) {{ findScenes(scene_filter: {{tags: {{value: $tags, modifier: "
            f"$modifier}}}}, filter: $filter) {{ scenes {{ {self._scene()} }} }} }}",
            {"tags": [tag_id], "modifier": "EXCLUDES" if exclude else "INCLUDES"},
            self._parse_scene)

    def _all_scenes(self, document: str, variables: dict[str, Any],
                    parse: Callable[[dict[str, Any]], _T]) -> list[_T]:
        """`document` (a findScenes with `$filter`) asked page by page in id order, stable while
        paging, until a page comes back short; each scene parsed once."""
        found: dict[str, _T] = {}
        page = 1
        while True:
            data = self.client.query(document, {**variables, "filter": {
                "page": page, "per_page": HISTORY_PAGE, "sort": "id", "direction": "ASC"}})
            scenes = data["findScenes"]["scenes"]
            new = [s for s in scenes if str(s["id"]) not in found]
            if scenes and not new:   # else it would be asked for the same page forever
                raise StashServerError(f"{self.where} answered page {page} of its scenes with "
                                       "the ones already read (it ignores `page`)")
            for s in new:
                found[str(s["id"])] = parse(s)
            if len(scenes) < HISTORY_PAGE:   # a short page is the last
                return list(found.values())
            page += 1

    def _parse_history(self, s: dict[str, Any]) -> SceneHistory:
        def when(value: Any) -> datetime:
            parsed = _utc(value)
            if parsed is None:
                raise StashServerError(f"{self.where} answered an unreadable time {value!r} "
                                       f"for scene {s['id']} (not RFC 3339)")
            return parsed
        last = s.get("last_played_at")
        rating = s.get("rating100")
        return SceneHistory(str(s["id"]), s.get("title"), _files(s), int(s.get("play_count") or 0),
                            int(s.get("o_counter") or 0), None if rating is None else int(rating),
                            None if last is None else when(last),
                            tuple(when(t) for t in s.get("play_history") or ()),
                            tuple(when(t) for t in s.get("o_history") or ()))

    # -- plugin settings ----------------------------------------------------------------------

    def plugin_settings(self, plugin_id: str) -> dict[str, Any]:
        """The plugin's saved settings (Settings > Plugins), `{}` when none are saved: Stash then
        leaves its id out of the answer. Unset keys are missing, not defaulted."""
        data = self.client.query(
            "query PharPluginSettings($ids: [ID!]) { configuration { plugins(include: $ids) } }",
            {"ids": [plugin_id]})
        plugins = data["configuration"]["plugins"]
        settings = plugins.get(plugin_id) if isinstance(plugins, dict) else None
        if settings is not None and not isinstance(settings, dict):
            raise StashServerError(f"{self.where} answered the settings of plugin {plugin_id!r} "
                                   "with something other than a map")
        return dict(settings or {})

    # -- tags ---------------------------------------------------------------------------------

    def find_tag(self, name: str) -> Tag | None:
        """The tag with this name (any case), else the one with it as an alias."""
        data = self.client.query(
            f"query PharTag($name: String!) {{ findTags(tag_filter: {{name: {{value: $name, "
            f"modifier: EQUALS}}, OR: {{aliases: {{value: $name, modifier: EQUALS}}}}}}, "
            f"filter: {{per_page: 100}}) {{ tags {{ {_TAG} aliases }} }} }}", {"name": name})
        key = name.casefold()
        tags = data["findTags"]["tags"]
        for match in (lambda t: t["name"].casefold() == key,
                      lambda t: any(a.casefold() == key for a in t.get("aliases") or [])):
            for t in tags:
                if match(t):
                    return Tag(str(t["id"]), t["name"])
        return None

    def create_tag(self, name: str, parent_ids: list[str], description: str) -> Tag:
        data = self.client.mutate(
            f"mutation PharTagCreate($input: TagCreateInput!) {{ tagCreate(input: $input) "
            f"{{ {_TAG} }} }}",
            {"input": {"name": name, "description": description, "parent_ids": parent_ids}})
        tag = data.get("tagCreate")
        if not tag:
            raise StashServerError(f"{self.where} did not create tag {name!r}")
        return Tag(str(tag["id"]), tag["name"])

    def destroy_tag(self, tag_id: str) -> None:
        """Stash takes the tag off every scene and marker with it; it refuses while a marker has
        it as primary tag (destroy those markers first)."""
        self.client.mutate(
            "mutation PharTagDestroy($input: TagDestroyInput!) { tagDestroy(input: $input) }",
            {"input": {"id": tag_id}})

    def tags_under(self, parent_id: str) -> list[Tag]:
        """The tags with this tag among their parents (direct children only), with their
        descriptions."""
        data = self.client.query(
            f"query PharTagsUnder($parents: [ID!]) {{ findTags(tag_filter: {{parents: {{value: "
            f"$parents, modifier: INCLUDES}}}}, filter: {{per_page: -1}}) {{ tags {{ {_TAG} "
            f"description }} }} }}", {"parents": [parent_id]})
        return [Tag(str(t["id"]), t["name"], t.get("description"))
                for t in data["findTags"]["tags"]]

    # -- markers ------------------------------------------------------------------------------

    def create_marker(self, scene_id: str, title: str, seconds: float, end_seconds: float | None,
                      primary_tag_id: str, tag_ids: list[str]) -> str:
        """One marker with all its tags: Stash writes it and them in one transaction."""
        marker: dict[str, Any] = {"scene_id": scene_id, "title": title, "seconds": seconds,
                                  "primary_tag_id": primary_tag_id, "tag_ids": tag_ids}
        if end_seconds is not None:
            marker["end_seconds"] = end_seconds
        data = self.client.mutate(
            "mutation PharMarkerCreate($input: SceneMarkerCreateInput!) { "
            "sceneMarkerCreate(input: $input) { id } }", {"input": marker})
        created = data.get("sceneMarkerCreate")
        if not created:
            raise StashServerError(f"{self.where} did not create a marker on scene {scene_id}")
        return str(created["id"])

    def destroy_marker(self, marker_id: str) -> None:
        self.client.mutate("mutation PharMarkerDestroy($id: ID!) { sceneMarkerDestroy(id: $id) }",
                           {"id": marker_id})

    def markers_with_tags(self, tag_ids: list[str]) -> list[Marker]:
        """Every marker whose primary tag or other tags include one of these (all pages)."""
        if not tag_ids:
            return []
        data = self.client.query(
            f"query PharMarkers($tags: [ID!]!) {{ findSceneMarkers(scene_marker_filter: {{tags: "
            f"{{value: $tags, modifier: INCLUDES}}}}, filter: {{per_page: -1}}) {{ scene_markers "
            f"{{ {self._marker()} scene {{ id {_FILES} }} }} }} }}", {"tags": tag_ids})
        return [self._parse_marker(m, m["scene"]) for m in data["findSceneMarkers"]["scene_markers"]]

    # -- documents and parsing ----------------------------------------------------------------

    def _marker(self) -> str:
        return _MARKER.format(end="end_seconds" if self.end_seconds else "")

    def _scene(self) -> str:
        return f"id title {_FILES} tags {{ {_TAG} }} scene_markers {{ {self._marker()} }}"

    def _parse_scene(self, s: dict[str, Any]) -> Scene:
        return Scene(str(s["id"]), s.get("title"), _files(s), _tags(s["tags"]),
                     tuple(self._parse_marker(m) for m in s["scene_markers"]))

    @staticmethod
    def _parse_marker(m: dict[str, Any], scene: dict[str, Any] | None = None) -> Marker:
        end = m.get("end_seconds")
        return Marker(str(m["id"]), m["title"], float(m["seconds"]),
                      None if end is None else float(end),
                      Tag(str(m["primary_tag"]["id"]), m["primary_tag"]["name"]),
                      _tags(m["tags"]), str(m["created_at"]), str(m["updated_at"]),
                      str(scene["id"]) if scene else None, _files(scene) if scene else ())


def _tags(items: list[dict[str, Any]]) -> tuple[Tag, ...]:
    return tuple(Tag(str(t["id"]), t["name"]) for t in items)


def _utc(value: Any) -> datetime | None:
    """An RFC 3339 time as an aware UTC datetime (fraction cut to microseconds), else None."""
    found = _RFC3339.fullmatch(value.strip()) if isinstance(value, str) else None
    if not found:
        return None
    day, clock, fraction, offset = found.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:   # spelled out for Python 3.10's fromisoformat (6 fraction digits, no Z)
        parsed = datetime.fromisoformat(f"{day}T{clock}.{(fraction or '')[:6]:0<6}{offset}")
    except ValueError:   # e.g. month 13
        return None
    return parsed.astimezone(timezone.utc)


def _files(scene: dict[str, Any]) -> tuple[SceneFile, ...]:
    return tuple(SceneFile(f["path"], None if f.get("size") is None else int(f["size"]),
                           f.get("duration")) for f in scene["files"])
