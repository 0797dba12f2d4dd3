"""`phar similar`: a library's videos ranked by how alike they are to one video, or every
video's best matches at once, each with the reason.

Scores (`--by`): `profile` is the cosine of the two videos' shares of action time per label;
`look` the cosine of their looks (same RGB model only); `both` the weighted sum of the two
(`--weights`, 0.5 each) where both videos have a look, the profile's cosine alone where one
has none. A video where nothing happens has no profile to compare: `profile` leaves it out.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from phar_cli.core.action_profile import ActionProfile
from phar_cli.errors import InvalidOption, UsageError
from phar_cli.similarity.library import Library, load_library, query_of
from phar_cli.similarity.ranking import EXCLUDED, best, mixed, unit_rows

BY = ("both", "profile", "look")
DEFAULT_BY = BY[0]
DEFAULT_WEIGHTS = {"profile": 0.5, "look": 0.5}
DEFAULT_TOP = 10
BLOCK = 512         # queries scored at once by `similar_all` (4 bytes a score: 200 MB a
                    # score matrix over 100,000 videos)
SHOWN_LABELS = 3    # labels a reason names at most
SHOWN_SHARE = 0.05  # ... each with at least this share in one of the two videos


@dataclass(frozen=True)
class Match:
    path: str
    relpath: str
    score: float
    profile: float | None       # the profile cosine (None: not compared)
    look: float | None          # the look cosine (None: one of the two has no look)
    why: str
    shares: dict[str, float]    # its shares of action time

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "relpath": self.relpath, "score": self.score,
                "profile": self.profile, "look": self.look, "why": self.why,
                "shares": {label: round(s, 4) for label, s in self.shares.items()}}


@dataclass
class Similar:
    query: str
    by: str
    weights: dict[str, float]
    look_model: str | None
    matches: list[Match]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "by": self.by, "weights": self.weights,
                "look_model": self.look_model, "matches": [m.to_dict() for m in self.matches],
                "notes": self.notes}


def parse_weights(text: str | dict[str, float] | None) -> dict[str, float]:
    """'profile=W,look=W' (or a dict) as weights summing to 1."""
    if text is None:
        return dict(DEFAULT_WEIGHTS)
    raw: dict[str, float] = {}
    items = text.items() if isinstance(text, dict) else (
        part.partition("=")[::2] for part in text.split(",") if part.strip())
    for name, value in items:
        name = str(name).strip()
        if name not in DEFAULT_WEIGHTS:
            raise InvalidOption("weights", f"{name!r}: use profile=W,look=W")
        try:
            raw[name] = float(value)
        except (TypeError, ValueError) as ex:
            raise InvalidOption("weights", f"{name}={value!r} is not a number") from ex
    weights = {name: raw.get(name, 0.0) for name in DEFAULT_WEIGHTS}
    total = sum(weights.values())
    if any(w < 0 or not np.isfinite(w) for w in weights.values()) or total <= 0:
        raise InvalidOption("weights", "must be numbers >= 0, not all 0")
    return {name: w / total for name, w in weights.items()}


def check_by(by: str) -> str:
    if by not in BY:
        raise InvalidOption("by", f"{by!r}: use {', '.join(BY)}")
    return by


class Scorer:
    """Scores of query rows against the whole library, as one `--by` and `--weights` say."""

    def __init__(self, library: Library, by: str, weights: dict[str, float],
                 query_model: str | None = None) -> None:
        self.library, self.by, self.weights = library, check_by(by), weights
        self.notes: list[str] = []
        self.model: str | None = None
        self.looks: np.ndarray | None = None
        self.has_look: np.ndarray | None = None
        if by == "both" and not library.look_vectors:
            self.notes.append("no video in the library has a look: compared by profile alone")
        elif by != "profile":
            self.model, self.looks, self.has_look = library.looks(query_model)
        self.has_action = library.shares.any(axis=1)

    def scores(self, shares: np.ndarray, looks: np.ndarray | None, has_look: np.ndarray,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(scores, profile cosines, look cosines or NaN) of query rows (unit vectors; `looks`
        None where no query has one) against every entry; `EXCLUDED` where an entry cannot be
        compared. Worked in place: a block of queries costs about four score matrices."""
        profile = shares @ self.library.shares.T
        look = both = None
        if self.looks is not None and looks is not None:
            both = has_look[:, None] & self.has_look[None, :]
            look = looks @ self.looks.T
        if self.by == "profile":
            result = profile.copy()
            result[:, ~self.has_action] = EXCLUDED
        elif look is None:  # no query row has a look
            result = profile.copy() if self.by == "both" else np.full_like(profile, EXCLUDED)
        elif self.by == "look":
            result = look.copy()
            result[~both] = EXCLUDED
        else:
            result = mixed(profile, look, both, (self.weights["profile"], self.weights["look"]))
        if look is not None:
            look[~both] = np.nan
        return result, profile, look


def similar(query: str | Path, library: str | Path | Library, *, top: int = DEFAULT_TOP,
            by: str = DEFAULT_BY, weights: str | dict[str, float] | None = None) -> Similar:
    """The `top` videos of `library` (a batch output folder) most like `query` (a video of the
    library, or any predictions JSON), best first; the query and its copies left out."""
    if top < 1:
        raise InvalidOption("top", "must be at least 1")
    lib = library if isinstance(library, Library) else load_library(Path(library))
    weights_ = parse_weights(weights)
    q = query_of(Path(query), lib)
    if by == "look" and q.look is None:
        raise UsageError(f"{query}: has no look (analysed before phar kept them, or without "
                         "the RGB stream); use --by profile")
    if by == "profile" and not q.profile.seconds:
        raise UsageError(f"{query}: nothing happens in it (no action segment), so it has no "
                         "profile to compare; use --by look")
    scorer = Scorer(lib, by, weights_, q.look_model if by != "profile" else None)
    shares = unit_rows(np.array([[q.profile.shares().get(label, 0.0) for label in lib.labels]]))
    looks = q.look[None].astype(np.float32) if q.look is not None else None
    has = np.array([q.look is not None])
    scores, profile, look = scorer.scores(shares, looks, has)
    ranked = best(scores, top, [np.asarray(q.exclude, np.int64)])[0]
    matches = [_match(lib, j, s, profile[0, j], look[0, j] if look is not None else None,
                      q.profile, scorer.by) for j, s in ranked]
    return Similar(str(query), by, weights_, scorer.model, matches, lib.notes + scorer.notes)


@dataclass
class SimilarAll:
    """Every video's matches, made block by block as they are read (`phar similar --all`
    writes them as they come: memory does not grow with the library's pairs)."""
    library: Library
    scorer: Scorer
    top: int
    notes: list[str]

    @property
    def look_model(self) -> str | None:
        return self.scorer.model

    def __len__(self) -> int:
        return len(self.library)

    def __iter__(self) -> Iterator[Similar]:
        lib, scorer = self.library, self.scorer
        copies = [np.asarray(lib.copies(e.content), np.int64) for e in lib.entries]
        for start in range(0, len(lib), BLOCK):
            rows = slice(start, min(start + BLOCK, len(lib)))
            looks = scorer.looks[rows] if scorer.looks is not None else None
            has = scorer.has_look[rows] if scorer.has_look is not None else np.zeros(0, bool)
            scores, profile, look = scorer.scores(lib.shares[rows], looks, has)
            if scorer.by == "profile":  # a video without action has no profile to compare
                scores[~scorer.has_action[rows]] = EXCLUDED
            for r, ranked in enumerate(best(scores, self.top, copies[rows])):
                entry = lib.entries[start + r]
                yield Similar(entry.path, scorer.by, scorer.weights, scorer.model, [
                    _match(lib, j, s, profile[r, j], look[r, j] if look is not None else None,
                           entry.profile, scorer.by) for j, s in ranked])


def similar_all(library: str | Path | Library, *, top: int = DEFAULT_TOP,
                by: str = DEFAULT_BY, weights: str | dict[str, float] | None = None,
                ) -> SimilarAll:
    """Every video's `top` matches (its copies left out), scored `BLOCK` queries at a time as
    the result is iterated."""
    if top < 1:
        raise InvalidOption("top", "must be at least 1")
    lib = library if isinstance(library, Library) else load_library(Path(library))
    scorer = Scorer(lib, by, parse_weights(weights))
    return SimilarAll(lib, scorer, top, lib.notes + scorer.notes)


def _match(lib: Library, j: int, score: float, profile: float, look: float | None,
           query: ActionProfile, by: str) -> Match:
    entry = lib.entries[j]
    look_ = None if look is None or not np.isfinite(look) else round(float(look), 4)
    profile_ = round(float(profile), 4) if by != "look" else None
    return Match(entry.path, entry.relpath, score, profile_, look_,
                 why(query, entry.profile, look_ if by != "profile" else None), entry.shares)


def why(query: ActionProfile, other: ActionProfile, look: float | None) -> str:
    """The reason of a match: the labels that weigh most in either video, each with its share
    of the action time in that video and in the query ("alpha 41% vs 38%"), and the looks'
    cosine."""
    mine, theirs = query.shares(), other.shares()
    labels = sorted(set(mine) | set(theirs), key=lambda k: (-max(mine.get(k, 0.0),
                                                                  theirs.get(k, 0.0)), k))
    parts = [f"{label} {theirs.get(label, 0.0):.0%} vs {mine.get(label, 0.0):.0%}"
             for label in labels[:SHOWN_LABELS]
             if max(mine.get(label, 0.0), theirs.get(label, 0.0)) >= SHOWN_SHARE]
    if not theirs:
        parts.append("nothing happens in it")
    if look is not None:
        parts.append(f"look {look:.2f}")
    return ", ".join(parts)
