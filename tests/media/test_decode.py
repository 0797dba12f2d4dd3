from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from phar_cli.spans import Span
from phar_cli.core.windows import plan_windows
from phar_cli.errors import VideoOpenError
from phar_cli.media.decode import (FrameReader, sample_indices, target_size, uniform_indices,
                                   window_frame_range)

WHITE = np.array([255, 255, 255])


def _close(pixel, color, tol=40) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.asarray(color)) <= tol))


def test_frames_at_short_side_64_keep_the_aspect(basic_video):
    reader = FrameReader(basic_video, short_side=64)
    frames = reader.frames([0, 10, 20])
    assert frames.shape == (3, 64, 85, 3)  # 160x120 → int(160 * 64/120 + 0.5) = 85
    assert frames.dtype == np.uint8


def test_native_size_without_short_side(basic_video):
    frames = FrameReader(basic_video).frames([0])
    assert frames.shape == (1, 120, 160, 3)
    assert _close(frames[0, 2, 2], WHITE)  # the orientation marker
    assert _close(frames[0, -3, -3], (30, 60, 220))  # blue background


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_video_frames_come_back_upright(rotated_videos, rotation):
    reader = FrameReader(rotated_videos[rotation], short_side=48)
    frame = reader.frames([0])[0]
    assert frame.shape == (48, 80, 3)  # display 160x96 is landscape whatever is stored
    assert _close(frame[1, 1], WHITE)
    for corner in (frame[1, -2], frame[-2, 1], frame[-2, -2]):
        assert not _close(corner, WHITE)


def test_indices_are_clamped_into_the_video(basic_video):
    reader = FrameReader(basic_video, short_side=32)
    assert len(reader) == 120
    clamped = reader.frames([-5, 10_000])
    exact = reader.frames([0, 119])
    assert np.array_equal(clamped, exact)


def test_frame_indices_map_to_the_right_scene(two_scene_video):
    """Frames 0-49 are red, 50-99 green (25 fps); a batch may mix them in any order."""
    reader = FrameReader(two_scene_video, short_side=24)
    frames = reader.frames([75, 5, 49, 50])
    means = frames.reshape(4, -1, 3).mean(axis=1)
    red, green = means[:, 0] > means[:, 1], means[:, 1] > means[:, 0]
    assert list(red) == [False, True, True, False]
    assert list(green) == [True, False, False, True]


def test_empty_index_list(basic_video):
    assert FrameReader(basic_video, short_side=32).frames([]).shape == (0, 32, 43, 3)


def test_reader_on_bad_file_raises_video_open_error(tmp_path):
    path = tmp_path / "bad.mp4"
    path.write_bytes(b"\x00" * 1000)
    with pytest.raises(VideoOpenError, match="bad.mp4"):
        FrameReader(path)


def test_target_size_portrait_and_native():
    assert target_size(1080, 1920, 224) == (224, 398)
    assert target_size(1920, 1080, 64) == (114, 64)
    assert target_size(640, 480, None) == (640, 480)


# --- index samplers against mmaction2's own transforms ---------------------------------------

def _mmaction():
    return pytest.importorskip("mmaction.datasets.transforms",
                               reason="mmaction2 is not installed")


SAMPLE_CASES = [  # (start, total, clip_len, interval, num_clips)
    (0, 210, 16, 12, 1),   # TimeSformer on a 7 s window at 30 fps
    (210, 175, 16, 12, 1),  # 25 fps: the clip is longer than the window
    (0, 60, 16, 12, 1),    # a 2 s last window
    (437, 437, 64, 1, 10),  # audio: 10 clips of 64 feature frames
    (5, 40, 64, 1, 10),    # fewer frames than one clip
    (0, 1, 8, 1, 3),
    (100, 300, 8, 4, 2),
]


@pytest.mark.parametrize("start, total, clip_len, interval, num_clips", SAMPLE_CASES)
@pytest.mark.parametrize("mode", ["loop", "repeat_last"])
def test_sample_indices_match_mmaction_sampleframes(start, total, clip_len, interval, num_clips,
                                                    mode):
    transforms = _mmaction()
    sampler = transforms.SampleFrames(clip_len=clip_len, frame_interval=interval,
                                      num_clips=num_clips, test_mode=True, out_of_bound_opt=mode)
    expected = sampler.transform({"total_frames": total, "start_index": start})["frame_inds"]

    ours = sample_indices(start, start + total, clip_len, interval, num_clips, out_of_bound=mode)

    assert np.array_equal(np.asarray(ours).reshape(-1), expected)


@pytest.mark.parametrize("start, total, clip_len, interval, num_clips", SAMPLE_CASES)
def test_sample_indices_clamped_stay_in_the_window(start, total, clip_len, interval, num_clips):
    clips = sample_indices(start, start + total, clip_len, interval, num_clips)
    assert len(clips) == num_clips and all(len(c) == clip_len for c in clips)
    flat = np.asarray(clips)
    assert flat.min() >= start and flat.max() < start + total
    assert np.all(np.diff(flat, axis=1) >= 0)  # clamping never wraps back to the start


def test_single_clip_is_centred():
    assert sample_indices(0, 100, 4, 10) == [[34, 44, 54, 64]]


@pytest.mark.parametrize("start, total, clip_len, num_clips", [
    (0, 210, 54, 10),   # PoseC3D test: 7 s at 30 fps
    (300, 175, 54, 10),
    (0, 80, 54, 10),    # between one and two clip lengths
    (0, 60, 54, 1),
    (10, 30, 54, 10),   # shorter than a clip
    (0, 5, 54, 10),     # fewer frames than clips
    (0, 12, 12, 2),
])
def test_uniform_indices_match_mmaction_uniformsampleframes(start, total, clip_len, num_clips):
    transforms = _mmaction()
    sampler = transforms.UniformSampleFrames(clip_len=clip_len, num_clips=num_clips,
                                             test_mode=True)
    expected = sampler.transform({"total_frames": total, "start_index": start})["frame_inds"]

    ours = uniform_indices(start, start + total, clip_len, num_clips)

    assert np.asarray(ours).shape == (num_clips, clip_len)
    assert np.array_equal(np.asarray(ours).reshape(-1), expected)


def test_uniform_indices_leave_the_global_random_state_alone():
    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    uniform_indices(0, 200, 54, 10)
    assert np.array_equal(np.random.get_state()[1], before)


def test_uniform_indices_are_repeatable():
    assert uniform_indices(0, 500, 54, 10) == uniform_indices(0, 500, 54, 10)


def test_window_frame_ranges_tile_the_video_exactly():
    fps, frame_count = Fraction(30000, 1001), 1200  # 40.04 s
    windows = plan_windows(float(frame_count / fps), 7.0)
    ranges = [window_frame_range(w, fps, frame_count) for w in windows]
    assert ranges[0][0] == 0 and ranges[-1][1] == frame_count
    for (_, end), (start, _) in zip(ranges, ranges[1:]):
        assert end == start
    assert ranges[1] == (210, 420)  # 7 s * 29.97 = 209.79 → 210


def test_window_frame_range_is_clamped_and_never_empty():
    assert window_frame_range(Span(0, 100), 25, 50) == (0, 50)
    assert window_frame_range(Span(10, 12), 25, 50) == (49, 50)
    assert window_frame_range(Span(1.0, 1.01), 25, 50) == (25, 26)
