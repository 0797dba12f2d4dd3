"""The parallel decoders (media/window_frames.py): the same frames as one reader, in the order
asked, whatever the number of workers, with a bounded number of frames decoded ahead."""
from __future__ import annotations

import numpy as np
import pytest

from phar_cli.errors import VideoOpenError
from phar_cli.media.decode import FrameReader
from phar_cli.media.probe import probe
from phar_cli.media.window_frames import (MAX_AUTO_WORKERS, WindowFrames,
                                          auto_decode_workers, in_flight_budget)
from phar_cli.synthetic.video import Scene, make_video


@pytest.fixture(scope="module")
def long_gop_video(tmp_path_factory):
    """12 s at 30 fps: more than one group of pictures (libx264 puts a keyframe every 250)."""
    folder = tmp_path_factory.mktemp("window-frames")
    return make_video(folder / "twelve.mp4", size=(160, 120), audio=False, segments=[
        Scene(4, "blue", "circle", None), Scene(4, "red", "left-right", None),
        Scene(4, "green", "up-down", None)])


def requests(frame_count: int) -> list[tuple[int, np.ndarray]]:
    """Overlapping windows of 60 frames every 45, 16 frames each with repeats (as a sampler
    clamps them), and one window asked backwards."""
    out = []
    for k, start in enumerate(range(0, frame_count - 30, 45)):
        indices = np.minimum(start + np.arange(0, 64, 4), frame_count - 1)
        out.append((k, indices[::-1] if k == 3 else indices))
    return out


@pytest.mark.parametrize("workers", [1, 2, 4])
@pytest.mark.parametrize("short_side", [None, 64])
def test_every_window_gets_the_frames_one_reader_gives(long_gop_video, workers, short_side):
    info = probe(long_gop_video)
    asked = requests(info.frame_count)
    reader = FrameReader(long_gop_video, short_side=short_side, info=info)
    decoder = WindowFrames(str(long_gop_video), short_side=short_side, info=info, eye=None,
                           workers=workers, in_flight_bytes=3 * 16 * 160 * 120 * 3)
    got = list(decoder.frames(asked))
    assert [key for key, _ in got] == [key for key, _ in asked]
    for (_, indices), (_, frames) in zip(asked, got):
        assert np.array_equal(frames, reader.frames(indices))
    assert decoder.frames_decoded == sum(len(indices) for _, indices in asked)


def test_frames_ahead_of_the_consumer_are_bounded(long_gop_video):
    info = probe(long_gop_video)
    asked = requests(info.frame_count)
    window_bytes = 16 * 120 * 160 * 3
    decoder = WindowFrames(str(long_gop_video), short_side=None, info=info, eye=None, workers=4,
                           in_flight_bytes=3 * window_bytes)
    chunk, in_flight = decoder.plan(16)
    assert (chunk, in_flight) == (1, 2)  # three windows fit: two being decoded, one in hand
    stream = decoder.frames(asked)
    next(stream)
    assert decoder.frames_decoded <= chunk * (in_flight + 1) * 16  # never the whole video
    stream.close()  # stopping early drops what was queued and returns


def test_a_chunk_holds_many_small_windows(long_gop_video):
    info = probe(long_gop_video)
    decoder = WindowFrames(str(long_gop_video), short_side=None, info=info, eye=None, workers=2,
                           in_flight_bytes=2**30)
    chunk, in_flight = decoder.plan(16)
    assert in_flight == 3 and chunk == 8


def test_a_file_that_cannot_be_decoded_fails_before_any_work(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    info = type("Info", (), {"width": 160, "height": 120, "rotation": 0})()
    with pytest.raises(VideoOpenError, match="broken.mp4"):
        WindowFrames(str(bad), short_side=None, info=info, eye=None, workers=2)


def test_workers_follow_the_cores():
    assert [auto_decode_workers(c) for c in (1, 2, 3, 8, 16, 64)] == \
        [1, 1, 1, 4, MAX_AUTO_WORKERS, MAX_AUTO_WORKERS]
    assert auto_decode_workers() >= 1


def test_the_frames_in_flight_are_a_share_of_the_ram_within_bounds():
    assert in_flight_budget(24 * 2**30) == 24 * 2**30 // 32
    assert in_flight_budget(2**30) == 256 * 2**20
    assert in_flight_budget(1024 * 2**30) == 4 * 2**30


def test_a_parked_reader_stops_decoding_ahead_into_memory(tmp_path):
    """decord goes on decoding after a read (dmlc/decord#208): 1080p frames piling up while the
    models run. Parked, the reader decodes nothing more, and reads the same frames after."""
    import time

    video = make_video(tmp_path / "hd.mp4", segments=[Scene(8, "blue", "circle", None)],
                       fps=30, size=(1920, 1080), audio=False)

    def rss_mib() -> int:
        status = open("/proc/self/status").read()
        return int(status.split("VmRSS:")[1].split()[0]) // 1024

    reader = FrameReader(video)
    first = reader.frames([0, 10])
    reader.park()
    before = rss_mib()
    time.sleep(1.5)  # unparked, decord fills this with ~200 MiB of frames a tenth of a second
    assert rss_mib() - before < 150
    assert np.array_equal(reader.frames([0, 10]), first)
