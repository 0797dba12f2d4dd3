"""phar: what happens in a video, and when (RGB + skeleton + audio action recognition).

The library face, the same things the `phar` command does:

    import phar_cli as phar

    engine = phar.load_engine("work_dirs", device="cpu")   # a bundle folder (None: the seed's)
    analysis = engine.analyse("in.mp4")                     # phar.Analysis
    phar.get_writer("srt").write(analysis, phar.segments(analysis), "in.srt")
    print(phar.tags(analysis, topk=3))

Names load on first use, so `import phar_cli` stays cheap.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from phar_cli.version import __version__

if TYPE_CHECKING:  # what type checkers and editors see; at run time `__getattr__` loads these
    # the same names, from the same modules, as `_EXPORTS` (tests/layout/test_types.py checks)
    from phar_cli.core.cutlist import CutOptions as CutOptions
    from phar_cli.core.engine import Engine as Engine
    from phar_cli.core.engine import EngineOptions as EngineOptions
    from phar_cli.core.load import engine_options as engine_options
    from phar_cli.core.load import load_engine as load_engine
    from phar_cli.core.load import predictions_for as predictions_for
    from phar_cli.core.predictions import Analysis as Analysis
    from phar_cli.core.predictions import load_predictions as load_predictions
    from phar_cli.core.segments import Segment as Segment
    from phar_cli.core.segments import segments_of as segments
    from phar_cli.core.tags import Tag as Tag
    from phar_cli.core.tags import video_tags as tags
    from phar_cli.errors import ModelLoadError as ModelLoadError
    from phar_cli.errors import PharError as PharError
    from phar_cli.errors import UsageError as UsageError
    from phar_cli.errors import VideoOpenError as VideoOpenError
    from phar_cli.outputs import FORMATS as FORMATS
    from phar_cli.outputs import get_writer as get_writer
    from phar_cli.outputs.cut_video import write_cut as write_cut
    from phar_cli.outputs.demo_video import DemoOptions as DemoOptions
    from phar_cli.outputs.demo_video import write_demo as write_demo
    from phar_cli.similarity.recommend import recommend as recommend
    from phar_cli.similarity.search import similar as similar

# name -> module that defines it (and the name there, where it differs)
_EXPORTS = {
    "load_engine": "phar_cli.core.load", "engine_options": "phar_cli.core.load",
    "predictions_for": "phar_cli.core.load",
    "segments": "phar_cli.core.segments:segments_of", "tags": "phar_cli.core.tags:video_tags",
    "Engine": "phar_cli.core.engine", "EngineOptions": "phar_cli.core.engine",
    "Analysis": "phar_cli.core.predictions", "load_predictions": "phar_cli.core.predictions",
    "Segment": "phar_cli.core.segments", "Tag": "phar_cli.core.tags",
    "get_writer": "phar_cli.outputs", "FORMATS": "phar_cli.outputs",
    "write_demo": "phar_cli.outputs.demo_video", "DemoOptions": "phar_cli.outputs.demo_video",
    "write_cut": "phar_cli.outputs.cut_video", "CutOptions": "phar_cli.core.cutlist",
    "PharError": "phar_cli.errors", "UsageError": "phar_cli.errors",
    "VideoOpenError": "phar_cli.errors", "ModelLoadError": "phar_cli.errors",
    "similar": "phar_cli.similarity.search", "recommend": "phar_cli.similarity.recommend",
}
# written out (not `[*_EXPORTS]`) so that type checkers and linters read it: `segments` and `tags`
# are exported under other names than their modules' (tests/layout/test_types.py checks it)
__all__ = [
    "__version__", "load_engine", "engine_options", "predictions_for", "segments", "tags", "Engine",
    "EngineOptions", "Analysis", "load_predictions", "Segment", "Tag", "get_writer", "FORMATS",
    "write_demo", "DemoOptions", "write_cut", "CutOptions", "PharError", "UsageError",
    "VideoOpenError", "ModelLoadError", "similar", "recommend",
]


if not TYPE_CHECKING:  # hidden from type checkers, so that a misspelt name is an error there
    def __getattr__(name: str) -> Any:
        if name in _EXPORTS:
            module, _, attr = _EXPORTS[name].partition(":")
            value = getattr(importlib.import_module(module), attr or name)
            globals()[name] = value
            return value
        raise AttributeError(f"module 'phar_cli' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
