"""Window planning: fixed length, tiling from 0, the last partial window kept only if >= 2 s."""
import pytest

from phar_cli.spans import Span
from phar_cli.core.windows import plan_windows


def test_windows_tile_the_video_and_keep_a_long_enough_remainder():
    assert plan_windows(30.0) == [Span(0, 7), Span(7, 14), Span(14, 21), Span(21, 28), Span(28, 30)]


def test_short_remainder_is_dropped():
    assert plan_windows(15.9) == [Span(0, 7), Span(7, 14)]


def test_exact_multiple_and_float_noise_make_no_sliver():
    assert plan_windows(14.0000001) == [Span(0, 7), Span(7, 14)]
    assert plan_windows(21.0) == [Span(0, 7), Span(7, 14), Span(14, 21)]


def test_video_shorter_than_the_minimum_has_no_window():
    assert plan_windows(1.99) == []
    assert plan_windows(2.0) == [Span(0, 2.0)]


def test_other_lengths():
    assert plan_windows(10, subclip_len=3) == [Span(0, 3), Span(3, 6), Span(6, 9)]
    assert plan_windows(10, subclip_len=4) == [Span(0, 4), Span(4, 8), Span(8, 10)]
    with pytest.raises(ValueError):
        plan_windows(10, subclip_len=0)
