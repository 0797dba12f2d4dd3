import pytest

from phar_cli.core.predictions import Analysis, VideoMeta, WindowPrediction
from phar_cli.core.segments import Segment, merge_segments
from phar_cli.spans import Span
from phar_cli.errors import ToolNotFound
from phar_cli.media.ffmpeg import ffmpeg_exe

TOPS = [("doggy", 0.83), ("doggy", 0.81), ("blowjob", 0.6), ("blowjob", 0.1), ("69", 0.75)]


@pytest.fixture
def analysis() -> Analysis:
    """Five 7 s windows over a 33 s video (the last one partial); scores at 6 digits so that a
    JSON round trip is exact."""
    windows = []
    for i, (label, p) in enumerate(TOPS):
        span = Span(i * 7.0, min(33.0, (i + 1) * 7.0))
        windows.append(WindowPrediction(
            span, [(label, p), ("kissing", round(p / 4, 6))],
            streams={"rgb": [(label, 0.5), ("kissing", 0.25)], "audio": [("anal", 0.125)]},
            used=["rgb", "audio"]))
    return Analysis(VideoMeta("/videos/clip one.mp4", 33.0, 29.97, 640, 360),
                    ["doggy", "blowjob", "69", "kissing"], windows, {"subclip_len": 7.0})


@pytest.fixture
def segments(analysis) -> list[Segment]:
    # doggy [0,14), blowjob [14,21), 69 [28,33) (the 0.1 window is dropped)
    return merge_segments(analysis.windows, min_score=0.5)


@pytest.fixture
def odd_segments() -> list[Segment]:
    """Labels that need escaping (ffmetadata, vtt) and times that need rounding."""
    return [Segment("a=b;c", Span(0.0, 2.5), 0.5, 1.0),
            Segment("hash#back\\slash", Span(2.5, 10.0), 0.25, 1.0),
            Segment("doggy", Span(12.3456, 29.9994), 0.875, 1.0),
            Segment("r&b <i>", Span(29.9994, 31.0), 1.0, 1.0)]


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    try:
        return ffmpeg_exe()
    except ToolNotFound as ex:
        pytest.skip(str(ex))
