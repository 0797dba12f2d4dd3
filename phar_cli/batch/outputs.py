"""Each video's output files under OUTDIR, named after the input's place in the library.

`<relpath>.json` is always written: the predictions JSON with segments, exactly what
`phar timestamps -f json` writes, the hub every other phar command reads. Each extra format adds
`<relpath>.<ext>`; `--tags` adds `<relpath>.tags.json` (what `phar tags --json` prints) and
`--filter` adds `<relpath>.cuts.json`: the kept segments `phar filter` would cut, in the JSON of
`phar filter --segments-out` (the cut video itself is `phar filter`'s, from the predictions JSON).
Every file is written atomically (temp file + rename), so a killed run leaves whole old files or
whole new ones, never half of one.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from phar_cli.core.cutlist import CutOptions, plan_cut
from phar_cli.core.predictions import Analysis
from phar_cli.core.action_profile import ActionProfile, profile_of
from phar_cli.core.segments import Segment, segments_of
from phar_cli.core.tags import Tag, tags_document, video_tags
from phar_cli.errors import InvalidOption, PharError
from phar_cli.outputs import FORMATS, atomic_write_bytes, get_writer
from phar_cli.outputs.cut_segments import write_kept_segments


@dataclass(frozen=True)
class OutputOptions:
    formats: tuple[str, ...] = ("json",)
    min_score: float = 0.0
    max_gap: float = 0.0
    tags_topk: int | None = None      # None: no tags file
    cuts: CutOptions | None = None    # None: no cut list
    background: bool = False          # segments of the background class too

    def __post_init__(self) -> None:
        for name in self.formats:
            get_writer(name)  # unknown format: UsageError naming the choices
        for name in ("min_score", "max_gap"):
            if getattr(self, name) < 0:
                raise InvalidOption(name, "must be >= 0")
        if self.tags_topk is not None and self.tags_topk < 1:
            raise InvalidOption("tags_topk", "must be >= 1")

    def digest(self) -> tuple[str, str]:
        """(hash, JSON) of these options: a done video whose outputs were made with other
        options gets them written again (from its predictions, without analysing again)."""
        data = asdict(self)
        if not self.background:  # the digest of outputs made before the option existed
            del data["background"]
        data["formats"] = sorted({f.lower() for f in self.formats} | {"json"})
        text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
        return hashlib.sha256(text.encode()).hexdigest()[:16], text

    def files(self, relpath: PurePosixPath) -> list[str]:
        """The output files of one video, relative to OUTDIR."""
        names = [f"{relpath}.json"]
        for name in self.formats:
            ext = get_writer(name).extension
            if f"{relpath}.{ext}" not in names:
                names.append(f"{relpath}.{ext}")
        if self.tags_topk is not None:
            names.append(f"{relpath}.tags.json")
        if self.cuts is not None:
            names.append(f"{relpath}.cuts.json")
        return names


@dataclass
class Written:
    files: list[str]
    segments: list[Segment]
    profile: ActionProfile                         # what the segments make, for the catalog
    tags: list[Tag] = field(default_factory=list)  # every label's tag, for the catalog


def write_outputs(analysis: Analysis, relpath: PurePosixPath, outdir: Path,
                  options: OutputOptions) -> Written:
    """Write one video's files atomically; returns what was written (paths relative to OUTDIR)."""
    segments = segments_of(analysis, min_score=options.min_score, max_gap=options.max_gap,
                           background=options.background)
    all_tags = video_tags(analysis, topk=None, min_score=options.min_score)
    base = outdir / Path(*relpath.parts)
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
    except OSError as ex:
        raise PharError(f"{base.parent}: cannot create the output folder ({ex.strerror or ex})") from ex
    files = options.files(relpath)
    written = {f"{relpath}.json"}
    get_writer("json").write(analysis, segments, outdir / f"{relpath}.json")
    for name in options.formats:
        writer = get_writer(name)
        target = f"{relpath}.{writer.extension}"
        if target not in written:
            writer.write(analysis, segments, outdir / target)
            written.add(target)
    if options.tags_topk is not None:
        atomic_write_bytes(outdir / f"{relpath}.tags.json",
                           _dump(tags_document(analysis, all_tags[:options.tags_topk])))
    if options.cuts is not None:
        plan = plan_cut(analysis, options.cuts)
        write_kept_segments(outdir / f"{relpath}.cuts.json", analysis, analysis.video, plan.ranges,
                            plan.ranges, {"output": None, "mode": None, "options": asdict(options.cuts)})
    return Written(files, segments, profile_of(analysis, segments), all_tags)


def outputs_present(outdir: Path, files: list[str]) -> bool:
    return bool(files) and all((outdir / f).is_file() for f in files)


def _dump(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n"


__all__ = ["FORMATS", "CutOptions", "OutputOptions", "Written", "outputs_present", "write_outputs"]
