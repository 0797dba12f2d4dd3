"""The overlay on its own: where it draws, how large, readable on any footage."""
from __future__ import annotations

import numpy as np
import pytest

from phar_cli.outputs.overlay import Overlay, label_color

from tests.mediacheck import hand_analysis

LABELS = ["doggy", "kissing", "blowjob", "the-snake", "facial-cumshot"]


def analysis(duration=21.0):
    tops = [("doggy", 0.61), ("facial-cumshot", 0.52), ("kissing", 0.9)]
    return hand_analysis("v.mp4", duration, tops, 7.0, LABELS, used=["rgb", "skeleton"])


@pytest.mark.parametrize("size", [(32, 24), (160, 120), (640, 360), (1080, 1920), (3840, 2160)])
def test_draws_only_inside_its_regions_which_lie_in_the_frame(size):
    w, h = size
    overlay = Overlay(analysis(), w, h, 21.0, topk=3)
    card, strip = overlay.regions
    assert 0 <= card.x and card.x + card.w <= w and 0 <= card.y and card.y + card.h <= h
    assert (strip.x, strip.w, strip.y + strip.h) == (0, w, h)        # full width, at the bottom
    assert card.y + card.h <= strip.y                                 # they do not overlap
    for t in (0.0, 8.5, 20.9, 21.5):
        frame = np.full((h, w, 3), 77, np.uint8)
        overlay.draw(frame, t)
        changed = (frame != 77).any(axis=2)
        for r in overlay.regions:
            assert r.view(changed).any()
            r.view(changed)[:] = False
        assert not changed.any()


def test_sizes_follow_the_frame_from_360p_to_4k():
    small = Overlay(analysis(), 640, 360, 21.0).layout
    large = Overlay(analysis(), 3840, 2160, 21.0).layout
    assert small.line >= 14                                   # a readable line at 360p
    assert large.line / small.line == pytest.approx(6, rel=0.1)
    assert large.card.h / small.card.h == pytest.approx(6, rel=0.15)
    assert large.strip.h / small.strip.h == pytest.approx(6, rel=0.2)
    assert small.strip.h <= 0.03 * 360                        # a thin strip


@pytest.mark.parametrize("background", [0, 128, 255])
def test_card_reads_on_dark_mid_and_bright_footage(background):
    overlay = Overlay(analysis(), 640, 360, 21.0)
    frame = np.full((360, 640, 3), background, np.uint8)
    overlay.draw(frame, 1.0)
    card = overlay.regions[0].view(frame).astype(int)
    luma = card @ np.array([0.299, 0.587, 0.114])
    box = np.median(luma)
    assert box <= 80                                          # a dark box under the text
    assert (luma >= 240).mean() > 0.005                       # and white text on it
    assert abs(int(card[0, 0, 0]) - background * 0.3) <= 1     # the box: 70% black


def test_the_card_follows_the_window_and_the_playhead_moves():
    overlay = Overlay(analysis(), 640, 360, 21.0)
    assert overlay.window_at(6.999).span.start == 0.0
    assert overlay.window_at(7.0).span.start == 7.0
    assert overlay.window_at(21.0) is None and overlay.window_at(-1) is None
    frames = {t: np.zeros((360, 640, 3), np.uint8) for t in (1.0, 5.0, 8.0)}
    for t, f in frames.items():
        overlay.draw(f, t)
    card, strip = overlay.regions
    assert (card.view(frames[1.0]) == card.view(frames[5.0])).all()      # one window
    assert (card.view(frames[1.0]) != card.view(frames[8.0])).any()      # the next window
    heads = [np.flatnonzero((strip.view(f)[-1] == 255).all(axis=1)) for f in frames.values()]
    assert heads[0].mean() < heads[1].mean() < heads[2].mean()
    assert abs(heads[1].mean() - 5 / 21 * 640) <= 2


def test_timeline_is_coloured_by_segment_label():
    overlay = Overlay(analysis(), 630, 360, 21.0)
    frame = np.zeros((360, 630, 3), np.uint8)
    overlay.draw(frame, 20.0)                        # playhead at the right end
    row = overlay.regions[1].view(frame)[-1]
    assert row[100].tolist() == list(label_color("doggy", LABELS))
    assert row[300].tolist() == list(label_color("facial-cumshot", LABELS))
    assert row[500].tolist() == list(label_color("kissing", LABELS))


def test_labels_outside_ascii_do_not_break_drawing():
    a = hand_analysis("v.mp4", 7.0, [("café", 0.9)], 7.0, ["café", "doggy"])
    frame = np.zeros((120, 160, 3), np.uint8)
    Overlay(a, 160, 120, 7.0).draw(frame, 1.0)
    assert frame.any()


def test_where_the_models_see_nothing_the_card_says_so_and_the_strip_is_bare():
    labels = ["doggy", "background"]
    nothing = hand_analysis("v.mp4", 14.0, [("doggy", 0.9), ("background", 0.95)], 7.0, labels,
                            used=["rgb"])
    nothing.config["background"] = "background"
    overlay = Overlay(nothing, 640, 360, 14.0, topk=2)
    texts = []
    original = overlay._render_card

    def capture(window, content=None):
        texts.append(window.top[0] if window else None)
        return original(window, content)

    overlay._render_card = capture
    cards = {}
    for t in (3.0, 10.0):
        frame = np.zeros((360, 640, 3), np.uint8)
        overlay.draw(frame, t)
        cards[t] = overlay.layout.card.view(frame).copy()
    assert texts == ["doggy", "background"]
    def swatch_pixels(card, label):  # a label row starts with a swatch of the label's colour
        return int((card == np.array(label_color(label, labels), np.uint8)).all(axis=2).sum())
    assert swatch_pixels(cards[3.0], "doggy") > 0
    assert swatch_pixels(cards[10.0], "background") == swatch_pixels(cards[10.0], "doggy") == 0
    strip = overlay._strip
    right = strip[:, strip.shape[1] * 3 // 4]
    left = strip[:, strip.shape[1] // 4]
    assert not np.array_equal(left[2], right[2])  # the doggy part is coloured, the rest is not
