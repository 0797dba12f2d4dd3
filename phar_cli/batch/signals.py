"""Profiles and looks for videos a batch analysed before the catalog kept them: filled in from
their predictions files, where those hold what is needed.

A profile comes from any predictions file (its segments as written, else the analysis' own); a
look only from a file written since looks were kept (schema `phar.predictions/2.2` with an RGB
model): the others stay without one until the video is analysed again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from phar_cli.batch.catalog import Catalog
from phar_cli.core.action_profile import ActionProfile, profile_of
from phar_cli.core.look import Look
from phar_cli.core.predictions import Analysis, read_json
from phar_cli.core.segments import Segment
from phar_cli.errors import PharError


@dataclass
class Backfill:
    profiles: int = 0            # profiles filled in
    looks: int = 0               # looks filled in with them
    unreadable: list[str] = field(default_factory=list)     # one line each


def signals_of(path: Path) -> tuple[ActionProfile, Look | None, str]:
    """The profile, look and video path of one predictions file (PharError when it is not
    one)."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise PharError(f"{path}: not a phar predictions file")
    analysis = Analysis.from_dict(data, source=str(path))
    try:
        segments = ([Segment.from_dict(s) for s in data["segments"]]
                    if isinstance(data.get("segments"), list) else None)
    except (KeyError, TypeError, ValueError) as ex:
        raise PharError(f"{path}: unreadable segments ({type(ex).__name__}: {ex})") from ex
    return profile_of(analysis, segments), analysis.look, analysis.video.path


def backfill(catalog: Catalog, outdir: Path) -> Backfill:
    """Fill in the profiles (and looks, where the files hold them) of done videos analysed
    before the catalog kept them, from OUTDIR's predictions files; each file is read once."""
    report = Backfill()
    for video_id, relpath in catalog.without_profile():
        try:
            profile, look, _ = signals_of(outdir / f"{relpath}.json")
        except PharError as ex:
            report.unreadable.append(str(ex))
            continue
        catalog.put_signals(video_id, profile, look)
        report.profiles += 1
        report.looks += look is not None
    return report
