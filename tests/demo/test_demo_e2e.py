"""`phar demo` and `phar filter` with a real analysis: small random-weight models of the seed's
architectures (tests/conftest.py), the same engine `phar timestamps` runs."""
from __future__ import annotations

import pytest

from phar_cli.media.probe import probe
from phar_cli.synthetic.video import Scene, make_video

from tests.conftest import run_phar
from tests.mediacheck import decode_frames, packet_hashes


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e-demo")
    return make_video(folder / "clip.mp4", size=(160, 120), segments=[
        Scene(5, "blue", "circle", 1000, -12), Scene(4, "orange", "left-right", 500, -12)])


def test_demo_runs_the_analysis_and_annotates_every_frame(clip, small_bundle, tmp_path, capsys):
    out = tmp_path / "demo.mp4"
    code, stdout, stderr = run_phar(["demo", clip, out, "--preset", "ultrafast",
                                     "--streams", "rgb,audio", *small_bundle.args("rgb_gated")],
                                    capsys)
    assert code == 0, stderr
    assert "RGB stream" in stderr and "Demo video" in stderr       # both steps had a bar
    assert stdout.strip() == f"wrote {out}"
    a, b = probe(clip), probe(out)
    assert (b.frame_count, b.fps, b.width, b.height) == (a.frame_count, a.fps, 160, 120) \
        == (270, 30, 160, 120)
    ours, theirs = decode_frames(out, 160, 120), decode_frames(clip, 160, 120)
    assert (ours[:, 10:30, 10:60].astype(int) - theirs[:, 10:30, 10:60]).any(axis=(1, 2, 3)).all()
    assert packet_hashes(out, "a:0") == packet_hashes(clip, "a:0")


def test_filter_runs_the_analysis_and_says_when_everything_is_kept(clip, small_bundle, tmp_path,
                                                                   capsys):
    # the 'gated' RGB head puts doggy first with a score near 1 in every window
    out = tmp_path / "cut.mp4"
    code, stdout, stderr = run_phar(["filter", clip, out, "--mode", "copy", "--streams", "rgb",
                                     *small_bundle.args("rgb_gated")], capsys)
    assert code == 0, stderr
    assert "everything is kept (no window is dropped)" in stdout
    assert packet_hashes(out, "v:0") == packet_hashes(clip, "v:0")
    code, _, stderr = run_phar(["-q", "filter", clip, tmp_path / "none.mp4", "--streams", "rgb",
                                "--drop", "doggy", *small_bundle.args("rgb_gated")], capsys)
    assert code == 1
    # the grid's two windows and the one from the change of tone to the end (its 4 s read alone)
    assert "nothing to keep (3 of 3 windows dropped: 3 with label doggy (--drop))" in stderr
    assert not (tmp_path / "none.mp4").exists()
