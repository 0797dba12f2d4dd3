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
from typing import Any

from phar_cli.version import __version__

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
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module, _, attr = _EXPORTS[name].partition(":")
        value = getattr(importlib.import_module(module), attr or name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'phar_cli' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
