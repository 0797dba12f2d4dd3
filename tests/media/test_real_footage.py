"""Ordinary real footage (from Debian packages, fetched once by scripts/fetch_footage.sh): one
shot each, people walking without sound, a diver with sound, a few seconds of speech. phar finds
no cut and no change of sound or picture in them (people walking through move about the picture
all the time: no moment of it stands out), and analyses them end to end."""
from __future__ import annotations


import orjson
import pytest

from phar_cli.core.changes import BLOCK, change_points, layout_changes
from phar_cli.media.audio import sound_blocks
from phar_cli.media.probe import probe
from phar_cli.media.scenes import scan_picture
from tests.conftest import FOOTAGE_PACKAGES as PACKAGES
from tests.conftest import footage, run_phar

@pytest.mark.parametrize("name", list(PACKAGES))
def test_one_shot_of_real_footage_has_no_cut_and_no_change(name):
    video = footage(name)
    info = probe(video)
    picture = scan_picture(video, info)
    sound = sound_blocks(video, info.duration, block=BLOCK) if info.has_audio else None
    assert len(picture.motion) > 0 and picture.motion.max() > 0  # the picture moves
    assert picture.cuts == []
    assert change_points(sound.level_db if sound else None, sound.spectrum if sound else None,
                         picture.times, picture.motion, duration=info.duration) == []
    assert layout_changes(picture.times, picture.layout, duration=info.duration) == []


def test_real_footage_with_sound_is_analysed_end_to_end(small_bundle, tmp_path, capsys):
    video = footage("diver.mov")
    out = tmp_path / "diver.json"
    code, _, err = run_phar(["-q", "timestamps", str(video), "-o", str(out),
                             *small_bundle.args("rgb_gated")], capsys)
    assert code == 0, err
    data = orjson.loads(out.read_bytes())
    assert data["video"]["duration"] == pytest.approx(probe(video).duration)
    assert data["cuts"] == [] and data["changes"] == []
    assert any("audio" in w["used"] for w in data["windows"])  # its sound was heard
