"""A Stash server for tests: GraphQL over HTTP POST at /graphql on 127.0.0.1, executed by
graphql-core against `schema.graphql` (the part of Stash's schema phar uses, same names), so a
query Stash would reject is rejected here (HTTP 422, as Stash's gqlgen answers). State is in
memory: scenes with files (path, size, oshash) and history (rating, plays, O's), tags (with
parents), markers, and plugins' saved settings (`plugin_settings`: plugin id -> settings map).

Authentication as Stash's (pkg/session/session.go `Authenticate`, internal/api/authentication.go)
when credentials are configured (`api_key` given): an API key, from the `ApiKey` header or else
the `apikey` query parameter, must be the key, and a wrong one is refused even beside a valid
cookie; without a key, the `session` cookie must be one the fake handed out (`session`, the
value a plugin gets in its input, or a renewal of it); anything else is HTTP 401 with an empty
body. Like Stash, each request let in by the cookie is answered with it renewed (`Set-Cookie:
session=...`, a new value; the old ones stay valid: the fake has no clock to expire them by).
`api_key=None` is a Stash with no credentials: everything is accepted (Stash itself would still
check an API key if one were sent).

Faithful where phar depends on it: string filters with EQUALS are SQL LIKE (case-insensitive,
`_` and `%` wildcards), evaluated by SQLite itself; a marker's `tags` never repeat its primary
tag; `end_seconds` must not be before `seconds`; tag names are unique whatever their case;
`created_at` = `updated_at` when a marker is made and `updated_at` moves on each edit;
`per_page` 25 by default, -1 for all; scenes sort by `id` (the only sort key the fake knows;
Stash's other keys are refused, unknown ones as Stash refuses them); multi-valued filters
(scene tags, tag parents, marker tags) take INCLUDES, INCLUDES_ALL and EXCLUDES at depth 0;
`configuration { plugins(include) }` leaves out a plugin with no settings, as Stash's resolver
does; `tagDestroy` takes the tag off scenes, markers and child tags (Stash's ON DELETE CASCADE)
but refuses while a marker has it as primary tag, with Stash's own error (pkg/sqlite/tag.go
`Destroy`: `primary_tag_id` is NOT NULL, so Stash neither deletes such markers nor unsets the
tag). A scene's history is as Stash (0.25+) keeps it: `play_count` and `o_counter` are
the lengths of `play_history` and `o_history` (rows of its view and O dates), both newest first,
and `last_played_at` is the latest play (null when never played).

Switches for tests: `end_seconds=False` serves the schema of an older Stash (no marker end
times); `fail_after(n)` answers HTTP 500 to every mutation after the n-th (a push killed
mid-scene; with `applied=True` the failing mutation still runs: its answer is lost); `flaky(n,
status)` answers the next n requests with that status; `break_field(name, message)` makes one
resolver fail as a server-side error does; `delay` seconds before each answer (timeouts).
"""
from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from graphql import (GraphQLError, OperationType, build_schema, execute_sync, get_operation_ast,
                     parse, validate)

SDL = (Path(__file__).parent / "schema.graphql").read_text(encoding="utf-8")
EPOCH = 1_767_225_600   # 2026-01-01T00:00:00Z
SESSION_MAX_AGE = 3600   # Stash's default max_session_age, in seconds


class FakeError(Exception):
    """A resolver error: comes back in the answer's `errors`, as Stash's do."""


@dataclass
class SceneRow:
    id: int
    title: str | None
    files: list[dict[str, Any]]
    tag_ids: list[int] = field(default_factory=list)
    rating100: int | None = None
    play_history: list[str] = field(default_factory=list)   # RFC 3339, newest first
    o_history: list[str] = field(default_factory=list)


@dataclass
class TagRow:
    id: int
    name: str
    description: str | None = None
    aliases: list[str] = field(default_factory=list)
    parent_ids: list[int] = field(default_factory=list)


@dataclass
class MarkerRow:
    id: int
    scene_id: int
    title: str
    seconds: float
    end_seconds: float | None
    primary_tag_id: int
    tag_ids: list[int]
    created_at: str
    updated_at: str


class FakeStash:
    def __init__(self, api_key: str | None = "test-key-7f3a9c", end_seconds: bool = True,
                 session: str | None = None) -> None:
        self.api_key = api_key
        self.session = session   # the session cookie accepted (None: no cookie is)
        self._sessions = {session} if session else set()   # it and its renewals
        self._renewals = 0
        self.session_cookies: list[str] = []   # the cookie of each request it let in
        self.end_seconds = end_seconds
        sdl = SDL if end_seconds else "\n".join(
            line for line in SDL.splitlines() if "end_seconds" not in line)
        self.schema = build_schema(sdl)
        self.scenes: dict[int, SceneRow] = {}
        self.tags: dict[int, TagRow] = {}
        self.markers: dict[int, MarkerRow] = {}
        self.requests: list[dict[str, Any]] = []   # every request that got past the key check
        self.mutations = 0
        self.delay = 0.0
        self._fail_after: int | None = None
        self._fail_applied = False
        self._flaky: list[int] = []
        self._broken: dict[str, str] = {}
        self._next_id = 0
        self._clock = EPOCH
        self._lock = threading.RLock()
        self._sql = sqlite3.connect(":memory:", check_same_thread=False)
        self.ui: dict[str, Any] = {}  # the UI configuration (Settings > Interface), e.g. vrTag
        # Settings > Plugins: plugin id -> its saved settings (unset keys are simply missing)
        self.plugin_settings: dict[str, dict[str, Any]] = {}
        self._server: ThreadingHTTPServer | None = None

    # -- the library, as a person or a scan would set it up ------------------------------------

    def add_scene(self, path: str, *, oshash: str | None = None, size: int = 1000,
                  duration: float = 60.0, title: str | None = None, rating100: int | None = None,
                  play_history: Iterable[int | str] = (),
                  o_history: Iterable[int | str] = ()) -> str:
        """A scanned scene; `play_history` and `o_history` are the times it was played and its O
        counter went up, each as epoch seconds (served as `...Z`) or an RFC 3339 string (served as
        given, e.g. with a UTC offset, as a Stash in another time zone answers), in any order.
        The counts follow from them, as in Stash."""
        with self._lock:
            sid = self._id()
            files = [{"id": self._id(), "path": path, "size": size, "duration": duration,
                      "fingerprints": [{"type": "oshash", "value": oshash}] if oshash else []}]
            self.scenes[sid] = SceneRow(sid, title, files, rating100=rating100,
                                        play_history=_history(play_history),
                                        o_history=_history(o_history))
            return str(sid)

    def add_tag(self, name: str, aliases: tuple[str, ...] = ()) -> str:
        with self._lock:
            return self._root.tagCreate(None, {"name": name, "aliases": list(aliases)}).id

    def add_marker(self, scene_id: str, seconds: float, primary_tag_id: str,
                   end_seconds: float | None = None, title: str = "",
                   tag_ids: tuple[str, ...] = ()) -> str:
        marker = {"scene_id": scene_id, "seconds": seconds, "primary_tag_id": primary_tag_id,
                  "title": title, "tag_ids": list(tag_ids)}
        if end_seconds is not None:
            marker["end_seconds"] = end_seconds
        with self._lock:
            return self._root.sceneMarkerCreate(None, marker).id

    def edit_marker(self, marker_id: str, **changes: Any) -> None:
        with self._lock:
            self._root.sceneMarkerUpdate(None, {"id": marker_id, **changes})

    def tag_scene(self, scene_id: str, tag_id: str) -> None:
        with self._lock:
            self._root.bulkSceneUpdate(None, {"ids": [scene_id],
                                              "tag_ids": {"ids": [tag_id], "mode": "ADD"}})

    def add_child_tag(self, name: str, parent_id: str, description: str | None = None) -> str:
        with self._lock:
            return self._root.tagCreate(None, {"name": name, "parent_ids": [parent_id],
                                               "description": description}).id

    def tag_named(self, name: str) -> TagRow | None:
        return next((t for t in self.tags.values() if t.name.casefold() == name.casefold()), None)

    def markers_of(self, scene_id: str) -> list[MarkerRow]:
        return sorted((m for m in self.markers.values() if m.scene_id == int(scene_id)),
                      key=lambda m: (m.seconds, m.id))

    def scene_tag_names(self, scene_id: str) -> set[str]:
        return {self.tags[t].name for t in self.scenes[int(scene_id)].tag_ids}

    def expire_sessions(self) -> None:
        """Every session cookie handed out so far is refused from now on (expired)."""
        with self._lock:
            self._sessions.clear()

    def fail_after(self, n: int | None, applied: bool = False) -> None:
        self._fail_after, self._fail_applied = n, applied

    def flaky(self, n: int, status: int = 503) -> None:
        """Answer the next `n` requests with this HTTP status, running nothing."""
        self._flaky = [status] * n

    def break_field(self, name: str, message: str) -> None:
        """Make one query or mutation fail inside the server (Stash's 'database is locked')."""
        self._broken[name] = message

    # -- the server ----------------------------------------------------------------------------

    def start(self) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def answer(self, body: Any) -> tuple[int, dict[str, Any] | None]:
        """(HTTP status, JSON) for one POSTed request."""
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return 400, {"errors": [{"message": "no query"}], "data": None}
        try:
            document = parse(body["query"])
        except GraphQLError as ex:
            return 422, {"errors": [ex.formatted], "data": None}
        errors = validate(self.schema, document)
        if errors:
            return 422, {"errors": [e.formatted for e in errors], "data": None}
        operation = get_operation_ast(document, body.get("operationName"))
        with self._lock:
            if self._flaky:
                return self._flaky.pop(), None
            self.requests.append({"query": body["query"], "variables": body.get("variables")})
            mutation = operation is not None and operation.operation == OperationType.MUTATION
            failing = mutation and self._fail_after is not None and self.mutations >= self._fail_after
            if failing and not self._fail_applied:
                return 500, None
            result = execute_sync(self.schema, document, root_value=self._root,
                                  variable_values=body.get("variables") or {},
                                  operation_name=body.get("operationName"))
            if mutation:
                self.mutations += 1
            if failing:
                return 500, None
        return 200, result.formatted

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def _root(self) -> _Root:
        return _Root(self)

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def now(self) -> str:
        self._clock += 1
        return _rfc3339(self._clock)

    def like(self, value: str, pattern: str) -> bool:
        with self._lock:
            return bool(self._sql.execute("SELECT ? LIKE ?", (value, pattern)).fetchone()[0])

    def authenticate(self, api_key: str | None, cookie: str | None) -> str | None:
        """Stash's check of one request: None when refused, else the session cookie to answer
        with ("" when no cookie is to be set)."""
        if api_key and self.api_key:   # a key is checked first, alone, even beside a cookie
            return "" if api_key == self.api_key else None
        with self._lock:
            if cookie is not None and cookie in self._sessions:
                self.session_cookies.append(cookie)
                self._renewals += 1   # Stash saves the session again: a new value, age reset
                renewed = f"{self.session}-r{self._renewals}"
                self._sessions.add(renewed)
                return renewed
        return "" if not self.api_key else None   # no credentials configured: all let in


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        fake: FakeStash = self.server.fake  # type: ignore[attr-defined]
        self._set_cookie = ""   # the renewed session cookie, once let in by one
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.split("?")[0] != "/graphql":
            return self._send(404, None)
        query = parse_qs(urlsplit(self.path).query)
        renewed = fake.authenticate(self.headers.get("ApiKey") or query.get("apikey", [""])[0],
                                    _cookie(self.headers.get("Cookie"), "session"))
        if renewed is None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", "FormBased")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self._set_cookie = renewed
        try:
            body = json.loads(raw)
        except ValueError:
            return self._send(400, {"errors": [{"message": "not JSON"}], "data": None})
        status, payload = fake.answer(body)
        if fake.delay:
            time.sleep(fake.delay)
        return self._send(status, payload)

    def _send(self, status: int, payload: dict[str, Any] | None) -> None:
        data = json.dumps(payload).encode() if payload is not None else b"internal error"
        self.send_response(status)
        if getattr(self, "_set_cookie", ""):   # as gorilla/sessions writes it
            self.send_header("Set-Cookie", f"session={self._set_cookie}; Path=/; "
                             f"Max-Age={SESSION_MAX_AGE}; SameSite=Lax")
        self.send_header("Content-Type", "application/json" if payload is not None else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


# -- resolvers: graphql-core calls a source's attribute with (info, **args) when callable --------

class _Root:
    def __init__(self, fake: FakeStash) -> None:
        self.f = fake

    def __getattribute__(self, name: str) -> Any:
        broken = object.__getattribute__(self, "f")._broken if name != "f" else {}
        if name in broken:
            def fail(*args: Any, **kwargs: Any) -> Any:
                raise FakeError(broken[name])
            return fail
        return object.__getattribute__(self, name)

    # queries

    def configuration(self, info: Any) -> Any:
        return {"ui": dict(self.f.ui), "plugins": self._plugins}

    def _plugins(self, info: Any, include: list[str] | None = None) -> dict[str, Any]:
        """internal/api/resolver_model_config.go: all plugins without `include`; a plugin with
        no settings saved is left out either way."""
        saved = self.f.plugin_settings
        return {p: dict(saved[p]) for p in (include or list(saved)) if saved.get(p)}

    def findSceneByHash(self, info: Any, input: dict[str, Any]) -> Any:
        want = input.get("oshash")
        for row in sorted(self.f.scenes.values(), key=lambda s: s.id):
            if want and any(fp["type"] == "oshash" and fp["value"] == want
                            for file in row.files for fp in file["fingerprints"]):
                return _Scene(self.f, row)
        return None

    def findScenes(self, info: Any, scene_filter: dict[str, Any] | None = None,
                   scene_ids: list[int] | None = None, ids: list[str] | None = None,
                   filter: dict[str, Any] | None = None) -> Any:
        rows = [s for s in sorted(self.f.scenes.values(), key=lambda s: s.id)
                if _matches(scene_filter, lambda key, crit: self._scene_criterion(s, key, crit))]
        page = _page(_sort_scenes(rows, filter), filter)
        return {"count": len(rows), "duration": sum(f["duration"] for s in rows for f in s.files),
                "filesize": float(sum(f["size"] for s in rows for f in s.files)),
                "scenes": [_Scene(self.f, s) for s in page]}

    def findTags(self, info: Any, tag_filter: dict[str, Any] | None = None,
                 filter: dict[str, Any] | None = None, ids: list[str] | None = None) -> Any:
        rows = [t for t in sorted(self.f.tags.values(), key=lambda t: t.id)
                if _matches(tag_filter, lambda key, crit: self._tag_criterion(t, key, crit))]
        return {"count": len(rows), "tags": [_Tag(self.f, t) for t in _page(rows, filter)]}

    def findSceneMarkers(self, info: Any, scene_marker_filter: dict[str, Any] | None = None,
                         filter: dict[str, Any] | None = None, ids: list[str] | None = None) -> Any:
        rows = [m for m in sorted(self.f.markers.values(), key=lambda m: m.id)
                if _matches(scene_marker_filter,
                            lambda key, crit: self._marker_criterion(m, key, crit))]
        return {"count": len(rows),
                "scene_markers": [_Marker(self.f, m) for m in _page(rows, filter)]}

    # mutations

    def bulkSceneUpdate(self, info: Any, input: dict[str, Any]) -> Any:
        rows = [self._scene(i) for i in input.get("ids") or []]
        change = input.get("tag_ids")
        if change is not None:
            tag_ids = [self._tag(i).id for i in change.get("ids") or []]
            for row in rows:
                if change["mode"] == "SET":
                    row.tag_ids = list(dict.fromkeys(tag_ids))
                elif change["mode"] == "ADD":
                    row.tag_ids += [t for t in tag_ids if t not in row.tag_ids]
                else:
                    row.tag_ids = [t for t in row.tag_ids if t not in tag_ids]
        if "title" in input:
            for row in rows:
                row.title = input["title"]
        return [_Scene(self.f, r) for r in rows]

    def sceneMarkerCreate(self, info: Any, input: dict[str, Any]) -> Any:
        scene = self._scene(input["scene_id"])
        primary = self._tag(input["primary_tag_id"]).id
        end = input.get("end_seconds")
        if end is not None and end < input["seconds"]:
            raise FakeError(f"end_seconds ({end:f}) must be greater than or equal to seconds "
                            f"({input['seconds']:f})")
        tags = [self._tag(t).id for t in input.get("tag_ids") or []]
        now = self.f.now()
        row = MarkerRow(self.f._id(), scene.id, input["title"].strip(), float(input["seconds"]),
                        None if end is None else float(end), primary,
                        [t for t in dict.fromkeys(tags) if t != primary], now, now)
        self.f.markers[row.id] = row
        return _Marker(self.f, row)

    def sceneMarkerUpdate(self, info: Any, input: dict[str, Any]) -> Any:
        row = self._marker(input["id"])
        new = {key: input[key] for key in ("title", "seconds", "end_seconds") if key in input}
        seconds, end = new.get("seconds", row.seconds), new.get("end_seconds", row.end_seconds)
        if end is not None and end < seconds:
            raise FakeError(f"end_seconds ({end:f}) must be greater than or equal to seconds "
                            f"({seconds:f})")
        primary = (self._tag(input["primary_tag_id"]).id if input.get("primary_tag_id")
                   else row.primary_tag_id)
        tags = ([self._tag(t).id for t in input["tag_ids"]] if input.get("tag_ids") is not None
                else row.tag_ids)
        for key, value in new.items():
            setattr(row, key, value)
        row.primary_tag_id = primary
        row.tag_ids = [t for t in dict.fromkeys(tags) if t != primary]
        row.updated_at = self.f.now()
        return _Marker(self.f, row)

    def sceneMarkerDestroy(self, info: Any, id: str) -> bool:
        del self.f.markers[self._marker(id).id]
        return True

    def tagCreate(self, info: Any, input: dict[str, Any]) -> Any:
        name = input["name"].strip()
        for tag in self.f.tags.values():
            if tag.name.casefold() == name.casefold():
                raise FakeError(f"tag with name '{name}' already exists")
            if any(a.casefold() == name.casefold() for a in tag.aliases):
                raise FakeError(f"name '{name}' is used as alias for '{tag.name}'")
        parents = [self._tag(p).id for p in input.get("parent_ids") or []]
        row = TagRow(self.f._id(), name, input.get("description"), list(input.get("aliases") or []),
                     parents)
        self.f.tags[row.id] = row
        return _Tag(self.f, row)

    def tagDestroy(self, info: Any, input: dict[str, Any]) -> bool:
        tag_id = _int(input["id"])
        # pkg/sqlite/tag.go Destroy: primary_tag_id is NOT NULL, so such markers block it
        if any(m.primary_tag_id == tag_id for m in self.f.markers.values()):
            raise FakeError("cannot delete tag used as a primary tag in scene markers")
        if tag_id not in self.f.tags:
            raise FakeError(f"id {tag_id} does not exist in tags")
        # the join tables' ON DELETE CASCADE: scenes_tags, scene_markers_tags, tags_relations
        for scene in self.f.scenes.values():
            scene.tag_ids = [t for t in scene.tag_ids if t != tag_id]
        for marker in self.f.markers.values():
            marker.tag_ids = [t for t in marker.tag_ids if t != tag_id]
        for tag in self.f.tags.values():
            tag.parent_ids = [t for t in tag.parent_ids if t != tag_id]
        del self.f.tags[tag_id]
        return True

    # lookups and criteria

    def _scene(self, scene_id: str) -> SceneRow:
        row = self.f.scenes.get(_int(scene_id))
        if row is None:
            raise FakeError(f"scene with id {scene_id} not found")
        return row

    def _tag(self, tag_id: str) -> TagRow:
        row = self.f.tags.get(_int(tag_id))
        if row is None:
            raise FakeError(f"tag with id {tag_id} not found")
        return row

    def _marker(self, marker_id: str) -> MarkerRow:
        row = self.f.markers.get(_int(marker_id))
        if row is None:
            raise FakeError(f"scene marker with id {marker_id} not found")
        return row

    def _scene_criterion(self, s: SceneRow, key: str, crit: dict[str, Any]) -> bool:
        if key == "path":
            return any(self._string(f["path"], crit) for f in s.files)
        if key == "oshash":
            return any(self._string(fp["value"], crit) for f in s.files for fp in f["fingerprints"]
                       if fp["type"] == "oshash")
        if key == "id":
            _only(crit, "EQUALS")
            return s.id == crit["value"]
        if key == "tags":
            return _includes(set(s.tag_ids), crit)
        raise FakeError(f"the fake Stash does not filter scenes by {key}")

    def _tag_criterion(self, t: TagRow, key: str, crit: dict[str, Any]) -> bool:
        if key == "name":
            return self._string(t.name, crit)
        if key == "aliases":
            return any(self._string(a, crit) for a in t.aliases)
        if key == "parents":   # depth 0: direct parents (pkg/sqlite/filter_hierarchical.go)
            return _includes(set(t.parent_ids), crit)
        raise FakeError(f"the fake Stash does not filter tags by {key}")

    def _marker_criterion(self, m: MarkerRow, key: str, crit: dict[str, Any]) -> bool:
        if key == "tags":   # Stash matches the primary tag and the other tags alike
            return _includes({m.primary_tag_id, *m.tag_ids}, crit)
        if key == "scenes":
            return _includes({m.scene_id}, crit)
        raise FakeError(f"the fake Stash does not filter markers by {key}")

    def _string(self, value: str, crit: dict[str, Any]) -> bool:
        _only(crit, "EQUALS", "INCLUDES")
        if crit["modifier"] == "EQUALS":
            return self.f.like(value, crit["value"])
        return self.f.like(value, f"%{crit['value']}%")


class _Scene:
    def __init__(self, fake: FakeStash, row: SceneRow) -> None:
        self.f, self.row = fake, row
        self.id, self.title = str(row.id), row.title
        self.rating100 = row.rating100
        self.play_history, self.o_history = list(row.play_history), list(row.o_history)
        # Stash counts the rows of the history tables: never null, 0 when none
        self.play_count, self.o_counter = len(row.play_history), len(row.o_history)
        self.last_played_at = row.play_history[0] if row.play_history else None

    def files(self, info: Any) -> list[Any]:
        return [_File(f) for f in self.row.files]

    def tags(self, info: Any) -> list[Any]:
        return [_Tag(self.f, self.f.tags[t]) for t in self.row.tag_ids]

    def scene_markers(self, info: Any) -> list[Any]:
        return [_Marker(self.f, m) for m in self.f.markers_of(str(self.row.id))]


class _File:
    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.id, self.path, self.size = str(row["id"]), row["path"], row["size"]
        self.basename = row["path"].replace("\\", "/").rsplit("/", 1)[-1]
        self.duration = row["duration"]


class _Tag:
    def __init__(self, fake: FakeStash, row: TagRow) -> None:
        self.f, self.row = fake, row
        self.id, self.name = str(row.id), row.name
        self.description, self.aliases = row.description, row.aliases

    def parents(self, info: Any) -> list[Any]:
        return [_Tag(self.f, self.f.tags[p]) for p in self.row.parent_ids]

    def children(self, info: Any) -> list[Any]:
        return [_Tag(self.f, t) for t in self.f.tags.values() if self.row.id in t.parent_ids]


class _Marker:
    def __init__(self, fake: FakeStash, row: MarkerRow) -> None:
        self.f, self.row = fake, row
        self.id, self.title, self.seconds = str(row.id), row.title, row.seconds
        self.end_seconds = row.end_seconds
        self.created_at, self.updated_at = row.created_at, row.updated_at

    def primary_tag(self, info: Any) -> Any:
        return _Tag(self.f, self.f.tags[self.row.primary_tag_id])

    def tags(self, info: Any) -> list[Any]:
        return [_Tag(self.f, self.f.tags[t]) for t in self.row.tag_ids]

    def scene(self, info: Any) -> Any:
        return _Scene(self.f, self.f.scenes[self.row.scene_id])


def _matches(filt: dict[str, Any] | None, criterion: Any) -> bool:
    """Stash's filter semantics: every criterion given holds, then AND / OR / NOT sub-filters."""
    if not filt:
        return True
    own = all(criterion(k, v) for k, v in filt.items() if k not in ("AND", "OR", "NOT") and v)
    if filt.get("AND") and not _matches(filt["AND"], criterion):
        own = False
    if filt.get("NOT") and _matches(filt["NOT"], criterion):
        own = False
    return own or bool(filt.get("OR") and _matches(filt["OR"], criterion))


def _includes(have: set[int], crit: dict[str, Any]) -> bool:
    _only(crit, "INCLUDES", "INCLUDES_ALL", "EXCLUDES")
    if crit.get("depth") not in (None, 0):
        raise FakeError("the fake Stash has no tag hierarchy depth")
    want = {int(v) for v in crit.get("value") or []}
    if crit["modifier"] == "INCLUDES":
        return bool(have & want)
    if crit["modifier"] == "INCLUDES_ALL":
        return want <= have
    return not have & want


def _cookie(header: str | None, name: str) -> str | None:
    """The first cookie of this name in a `Cookie` header, as Go's `Request.Cookie` finds it."""
    for part in (header or "").split(";"):
        key, eq, value = part.strip().partition("=")
        if eq and key == name:
            return value.strip('"')
    return None


def _only(crit: dict[str, Any], *modifiers: str) -> None:
    if crit["modifier"] not in modifiers:
        raise FakeError(f"the fake Stash does not support modifier {crit['modifier']} here")


# pkg/sqlite/scene.go sceneSortOptions: what Stash accepts as `sort` for scenes
_SCENE_SORTS = {"bitrate", "created_at", "code", "date", "file_count", "filesize", "duration",
                "file_mod_time", "framerate", "group_scene_number", "id", "interactive",
                "interactive_speed", "last_o_at", "last_played_at", "movie_scene_number",
                "o_counter", "organized", "performer_count", "play_count", "play_duration",
                "resume_time", "path", "perceptual_similarity", "random", "rating", "resolution",
                "studio", "tag_count", "title", "updated_at", "performer_age"}


def _sort_scenes(rows: list[SceneRow], filt: dict[str, Any] | None) -> list[SceneRow]:
    sort = (filt or {}).get("sort")
    if not sort:
        return rows
    if sort not in _SCENE_SORTS:   # Stash's allow-list (CVE-2024-32231)
        raise FakeError(f"invalid sort: {sort}")
    if sort != "id":
        raise FakeError(f"the fake Stash does not sort scenes by {sort}")
    return sorted(rows, key=lambda s: s.id, reverse=(filt or {}).get("direction") == "DESC")


def _page(rows: list[Any], filt: dict[str, Any] | None) -> list[Any]:
    filt = filt or {}
    per_page = filt.get("per_page")
    per_page = 25 if per_page is None else per_page
    if per_page < 0:
        return rows
    page = max(1, filt.get("page") or 1)
    return rows[(page - 1) * per_page: page * per_page]


def _rfc3339(epoch: int) -> str:
    """A `Time` as Stash serialises it (RFC 3339), here always in UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _history(times: Iterable[int | str]) -> list[str]:
    """Times as Stash answers them: RFC 3339, newest first (it orders by date DESC)."""
    def instant(t: str) -> datetime:   # Python 3.10's fromisoformat wants 6 digits and no Z
        t = re.sub(r"\.(\d+)", lambda m: "." + m[1][:6].ljust(6, "0"), t)
        return datetime.fromisoformat(t.replace("Z", "+00:00"))
    served = [_rfc3339(t) if isinstance(t, int) else t for t in times]
    return sorted(served, key=instant, reverse=True)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FakeError(f"converting id: {value!r} is not a number") from None
