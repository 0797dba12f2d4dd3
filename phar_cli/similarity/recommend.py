"""`phar recommend`: the library's videos a viewer has not played, ranked by how alike they are
to the ones they engaged with, from Stash's history or a list of liked files.

How much a played scene weighs (Stash's own counts; documented in the README):

    weight = (log2(1 + plays) + o_count) x rating x recency

- plays and O's: every play counts, with diminishing returns; each O counts as much as the
  first play;
- rating: `rating100 / 60` when rated (3 of 5 stars is 1, 5 stars 1.67, 1 star 0.33: a low
  rating makes a scene count less, never against); unrated 1;
- recency: halves every `HALF_LIFE_DAYS` (90) days since the scene was last played or O'd.

A rated scene never played counts as one play. A video's score is the weighted mean of its
similarity (`phar similar`'s, by the same `--by` and `--weights`) to each engaged scene; the
reason names the engaged scene that contributed most and the viewer's mix of actions (the
engaged scenes' shares of action time, weighted). Scenes the viewer played, O'd or rated are
never recommended, nor are copies of them; of two copies of one file only the first (by path) is.
"""
from __future__ import annotations

import math
from collections.abc import Collection
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from phar_cli.core.action_profile import ActionProfile, profile
from phar_cli.errors import InvalidOption, UsageError
from phar_cli.similarity.library import Library, load_library
from phar_cli.similarity.ranking import EXCLUDED, best
from phar_cli.similarity.search import DEFAULT_BY, Scorer, check_by, parse_weights, why

HALF_LIFE_DAYS = 90.0
RATING_UNIT = 60.0     # rating100 that weighs as much as no rating
DEFAULT_TOP = 20
SHOWN_UNANALYSED = 10  # unanalysed scenes named; the rest counted


@dataclass(frozen=True)
class Engaged:
    """A library video the viewer engaged with, and how much it weighs."""
    index: int            # the library entry
    weight: float
    name: str             # the scene's title (or file name)
    detail: str           # "played 5x, O 1, rated 90"


@dataclass(frozen=True)
class Recommendation:
    path: str
    relpath: str
    score: float
    why: str
    scene_id: str | None = None
    link: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "relpath": self.relpath, "score": self.score, "why": self.why,
                "scene_id": self.scene_id, "link": self.link}


@dataclass
class Recommendations:
    by: str
    engaged: list[Engaged]
    items: list[Recommendation]
    unanalysed: list[str] = field(default_factory=list)   # scenes phar has no analysis of
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "recommendations": [r.to_dict() for r in self.items],
                "engaged": [{"name": e.name, "weight": round(e.weight, 4), "detail": e.detail}
                            for e in self.engaged],
                "unanalysed": self.unanalysed, "notes": self.notes}


def engagement(plays: int, o_count: int, rating100: int | None, last: datetime | None,
               now: datetime) -> float:
    """A scene's weight in the viewer's taste (the module's rule); 0: not engaged."""
    base = math.log2(1 + max(plays, 0)) + max(o_count, 0)
    if rating100 is not None:
        base = max(base, 1.0) * rating100 / RATING_UNIT
    if base <= 0:
        return 0.0
    days = max(0.0, (now - last).total_seconds() / 86400) if last is not None else 0.0
    return base * 0.5 ** (days / HALF_LIFE_DAYS)


def rank(library: Library, engaged: list[Engaged], *, top: int = DEFAULT_TOP,
         by: str = DEFAULT_BY, weights: str | dict[str, float] | None = None,
         skip: Collection[int] = (), links: dict[int, tuple[str, str]] | None = None,
         ) -> Recommendations:
    """The library's videos ranked for a viewer who engaged with `engaged`; `skip`, engaged
    videos and their copies are left out, and of other copies all but the first; `links` gives
    entries their Stash scene (id, URL)."""
    if top < 1:
        raise InvalidOption("top", "must be at least 1")
    if not engaged:
        raise UsageError("nothing to go on: none of the videos the viewer played, O'd, rated "
                         "or liked is in the library")
    weights_ = parse_weights(weights)
    scorer = Scorer(library, check_by(by), weights_)
    rows = [e.index for e in engaged]
    w = np.array([e.weight for e in engaged], np.float32)
    looks = scorer.looks[rows] if scorer.looks is not None else None
    has = scorer.has_look[rows] if scorer.has_look is not None else np.zeros(len(rows), bool)
    scores, _, _ = scorer.scores(library.shares[rows], looks, has)
    comparable = np.isfinite(scores)
    total = (w[:, None] * comparable).sum(axis=0)
    mean = (w[:, None] * np.where(comparable, scores, 0.0)).sum(axis=0) / np.maximum(total, 1e-12)
    mean = np.where(total > 0, mean, EXCLUDED).astype(np.float32)
    left_out: set[int] = set()
    for i in {*skip, *(e.index for e in engaged)}:
        left_out.update(library.copies(library.entries[i].content))
    for i, entry in enumerate(library.entries):  # one file of each set of copies, the first
        left_out.update(library.copies(entry.content)[1:])
    taste = _taste(library, engaged)
    items = []
    for j, score in best(mean[None], top, [np.array(sorted(left_out), np.int64)])[0]:
        entry = library.entries[j]
        k = int(np.argmax(w * np.where(comparable[:, j], scores[:, j], -np.inf)))
        because = f"like {engaged[k].name} ({engaged[k].detail}) {scores[k, j]:.2f}"
        mix = why(taste, entry.profile, None)
        scene_id, link = (links or {}).get(j, (None, None))
        items.append(Recommendation(entry.path, entry.relpath, score,
                                    f"{because}; {mix} (yours)" if mix else because,
                                    scene_id, link))
    return Recommendations(by, engaged, items, notes=library.notes + scorer.notes)


def _taste(library: Library, engaged: list[Engaged]) -> ActionProfile:
    """The viewer's mix of actions: the engaged videos' shares of action time, weighted."""
    seconds: dict[str, float] = {}
    for e in engaged:
        for label, share in library.entries[e.index].profile.shares().items():
            seconds[label] = seconds.get(label, 0.0) + e.weight * share
    return profile(1.0, seconds)


def from_stash(api: Any, library: Library, maps: tuple[Any, ...] = (), *,
               top: int = DEFAULT_TOP, by: str = DEFAULT_BY,
               weights: str | dict[str, float] | None = None,
               now: datetime | None = None) -> Recommendations:
    """Recommendations from a Stash server's watch history (read only): each scene is matched
    to the library by its files' paths (mapped by `maps`), or by content where the file is here
    at another path."""
    from phar_cli.stash.paths import to_local

    now = now or datetime.now(timezone.utc)
    engaged, skip, links, unanalysed = [], set(), {}, []
    for scene in api.scene_histories():
        found = [i for f in scene.files if (i := library.find(to_local(f.path, maps))) is not None]
        name = scene.title or (os.path.basename(scene.files[0].path) if scene.files
                               else f"scene {scene.id}")
        if not found:
            unanalysed.append(name)
            continue
        last = max([t for t in (scene.last_played_at, *scene.o_history[:1]) if t is not None],
                   default=None)
        weight = engagement(scene.play_count, scene.o_counter, scene.rating100, last, now)
        for i in found:
            links[i] = (scene.id, api.scene_url(scene.id))
            if weight > 0:
                engaged.append(Engaged(i, weight, name, _detail(scene)))
            if scene.play_count or scene.o_counter or scene.rating100 is not None:
                skip.add(i)
    result = rank(library, engaged, top=top, by=by, weights=weights, skip=skip, links=links)
    result.unanalysed = unanalysed
    return result


def from_liked(library: Library, liked: Path, *, top: int = DEFAULT_TOP, by: str = DEFAULT_BY,
               weights: str | dict[str, float] | None = None) -> Recommendations:
    """Recommendations from a plain list of liked video files (one a line, # comments; relative
    paths read against the list's folder), each weighing 1."""
    try:
        lines = liked.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as ex:
        raise UsageError(f"{liked}: cannot read the list of liked files ({ex})") from ex
    engaged, missing = [], []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        path = text if os.path.isabs(text) else str(liked.parent / text)
        i = library.find(path)
        if i is None:
            missing.append(text)
        elif all(e.index != i for e in engaged):
            engaged.append(Engaged(i, 1.0, os.path.basename(text), "liked"))
    result = rank(library, engaged, top=top, by=by, weights=weights)
    result.unanalysed = missing
    return result


def recommend(library: str | Path | Library, *, stash: Any = None, liked: str | Path | None = None,
              maps: tuple[Any, ...] = (), top: int = DEFAULT_TOP, by: str = DEFAULT_BY,
              weights: str | dict[str, float] | None = None) -> Recommendations:
    """`phar recommend` from Python: `stash` a `StashApi`, or `liked` a list of files."""
    if (stash is None) == (liked is None):
        raise UsageError("recommend from a Stash server or from a list of liked files (one of them)")
    lib = library if isinstance(library, Library) else load_library(Path(library))
    if stash is not None:
        return from_stash(stash, lib, maps, top=top, by=by, weights=weights)
    return from_liked(lib, Path(liked), top=top, by=by, weights=weights)


def _detail(scene: Any) -> str:
    parts = [f"played {scene.play_count}x"] if scene.play_count else []
    if scene.o_counter:
        parts.append(f"O {scene.o_counter}")
    if scene.rating100 is not None:
        parts.append(f"rated {scene.rating100}")
    return ", ".join(parts) or "engaged"
