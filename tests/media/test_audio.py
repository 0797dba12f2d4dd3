from __future__ import annotations

import importlib.util
import math
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from phar_cli.spans import Span
from phar_cli.errors import AudioDecodeError, VideoOpenError
from phar_cli.media.audio import (integrated_loudness, load_waveform, log_mel, window_features,
                                  window_waveforms)

RATE = 16000
# Fixed bytes no demuxer accepts (random bytes sometimes decode as some format: a flaky test).
NOT_MEDIA = b"phar test: these bytes are not audio or video.\n" * 100
FULL_SCALE_SINE_LUFS = -3.01  # BS.1770: a 0 dBFS 1 kHz sine in one channel


def tone(db: float, seconds: float = 3.0, hz: float = 1000.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (10 ** (db / 20) * np.sin(2 * np.pi * hz * t)).astype(np.float32)


# --- decoding ----------------------------------------------------------------------------------

def test_load_waveform_is_mono_float32_at_16k(basic_video):
    samples = load_waveform(basic_video)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) == pytest.approx(4 * RATE, rel=0.02)
    assert np.abs(samples).max() == pytest.approx(0.1, rel=0.15)  # a -20 dBFS tone


def test_no_audio_stream_gives_an_empty_waveform(silent_video):
    samples = load_waveform(silent_video)
    assert samples.shape == (0,) and samples.dtype == np.float32
    assert integrated_loudness(samples) == -math.inf


def test_missing_file(tmp_path):
    with pytest.raises(VideoOpenError, match="nope.mp4"):
        load_waveform(tmp_path / "nope.mp4")


def test_undecodable_file_raises_audio_decode_error(tmp_path):
    path = tmp_path / "junk.mp4"
    path.write_bytes(NOT_MEDIA)
    with pytest.raises(AudioDecodeError, match="junk.mp4"):
        load_waveform(path)


def test_window_waveforms_stream_the_same_samples_as_slicing_the_whole_track(two_scene_video):
    whole = load_waveform(two_scene_video)
    # in order, out of order, overlapping, and running past the end
    spans = [Span(2.5, 3.9), Span(0, 1.5), Span(1, 2.5), Span(3.5, 9)]
    got = dict(window_waveforms(two_scene_video, spans))
    assert sorted(got) == [0, 1, 2, 3]
    for i, span in enumerate(spans):
        np.testing.assert_array_equal(got[i], whole[int(span.start * 16000):int(span.end * 16000)])


def test_window_waveforms_come_in_order_of_start(two_scene_video):
    spans = [Span(2, 3), Span(0, 1), Span(1, 2)]
    assert [i for i, _ in window_waveforms(two_scene_video, spans)] == [1, 2, 0]


def test_window_waveforms_of_a_file_without_audio_yield_nothing(silent_video):
    assert list(window_waveforms(silent_video, [Span(0, 1)])) == []


def test_window_waveforms_errors_are_those_of_load_waveform(tmp_path):
    with pytest.raises(VideoOpenError, match="nope.mp4"):
        list(window_waveforms(tmp_path / "nope.mp4", [Span(0, 1)]))
    path = tmp_path / "junk.mp4"
    path.write_bytes(NOT_MEDIA)
    with pytest.raises(AudioDecodeError, match="junk.mp4"):
        list(window_waveforms(path, [Span(0, 1)]))


# --- loudness ----------------------------------------------------------------------------------

@pytest.mark.parametrize("db", [-10, -30])
def test_tone_loudness_matches_bs1770_reference(db):
    assert integrated_loudness(tone(db), RATE) == pytest.approx(db + FULL_SCALE_SINE_LUFS, abs=1)


def test_louder_tone_is_louder():
    assert integrated_loudness(tone(-10)) > integrated_loudness(tone(-30)) + 15


def test_silence_and_too_short_input_are_minus_infinity():
    assert integrated_loudness(np.zeros(RATE * 2, np.float32)) == -math.inf
    assert integrated_loudness(tone(-10, seconds=0.1)) == -math.inf
    assert integrated_loudness(np.zeros(0, np.float32)) == -math.inf


def test_loudness_survives_encoding_into_a_video(two_scene_video):
    """Through AAC and ffmpeg's resampler each scene keeps its level within 1 LU."""
    samples = load_waveform(two_scene_video)
    loud, quiet = samples[: 2 * RATE], samples[2 * RATE:]
    assert integrated_loudness(loud) == pytest.approx(-10 + FULL_SCALE_SINE_LUFS, abs=1)
    assert integrated_loudness(quiet) == pytest.approx(-30 + FULL_SCALE_SINE_LUFS, abs=1)


# --- log-mel features --------------------------------------------------------------------------

def test_log_mel_shape_range_and_rate():
    rng = np.random.default_rng(0)
    y = tone(-12, seconds=10) + 0.01 * rng.standard_normal(10 * RATE).astype(np.float32)
    feats = log_mel(y)
    assert feats.dtype == np.float32 and feats.shape[1] == 80
    # lws pads fsize - hop on both sides: (160000 + 2 * 256 - 512) / 256 + 1 frames
    assert feats.shape[0] == 626
    assert 0 <= feats.min() and feats.max() <= 1
    assert feats[:, 20:40].mean() > feats[:, 70:].mean()  # the 1 kHz band stands out


def test_log_mel_ignores_input_level():
    """The builder RMS-normalises first, so a quieter copy gives the same features."""
    y = tone(-6) + 0.01
    assert np.allclose(log_mel(y), log_mel(y * 0.05), atol=1e-5)


def test_log_mel_of_silence_and_empty_input():
    assert np.all(log_mel(np.zeros(RATE, np.float32)) == 0)
    assert log_mel(np.zeros(0, np.float32)).shape == (1, 80)


def test_window_features_slices_by_time():
    feats = np.arange(625 * 80, dtype=np.float32).reshape(625, 80)  # 10 s at 62.5 frames/s
    part = window_features(feats, Span(2.0, 4.0))
    assert part.shape == (125, 80)
    assert part[0, 0] == feats[125, 0]
    assert window_features(feats, Span(9.0, 12.0)).shape == (62, 80)
    assert window_features(feats, Span(11.0, 12.0)).shape == (0, 80)


# --- against the builder itself ----------------------------------------------------------------

def _find_builder() -> Path | None:
    """The builder as mmaction2's wheel ships it (mmaction/.mim/tools), or $PHAR_AUDIO_BUILDER."""
    override = os.environ.get("PHAR_AUDIO_BUILDER")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("mmaction")
    for root in (spec.submodule_search_locations or []) if spec else []:
        for tools in (".mim/tools", "tools"):
            candidate = Path(root) / tools / "data" / "build_audio_features.py"
            if candidate.is_file():
                return candidate
    return None


class _LwsStand_in:
    """lws 1.2.8's `lws(fsize, fshift).stft` transcribed frame by frame from its lws.pyx, used
    only when the lws extension is not installed (its PyPI sdist does not build on Python 3.11+).
    """

    class lws:  # noqa: N801 - the name the builder calls
        def __init__(self, fsize, fshift, mode=None):
            n = np.arange(1, 2 * fsize, 2)
            hann = 0.5 * (1 - np.cos(2 * np.pi * n / (2 * fsize)))
            self.awin = np.sqrt(hann * 2 * fshift / fsize)
            self.fsize, self.fshift = fsize, fshift

        def stft(self, x):
            fsize, fshift = self.fsize, self.fshift
            pad = np.zeros((fsize - fshift,))
            x = np.hstack((pad, x, pad))
            if len(x) % fshift == 0:
                m_count = (len(x) - fsize) // fshift + 1
            else:
                m_count = (len(x) - fsize) // fshift + 2
            x = np.hstack((x, np.zeros(((m_count - 1) * fshift + fsize - len(x),))))
            spec = np.zeros([m_count, fsize // 2 + 1], dtype=complex)
            for m in range(m_count):
                frame = x[m * fshift: m * fshift + fsize] * self.awin
                spec[m] = np.fft.fft(frame, n=fsize)[: fsize // 2 + 1]
            return spec


def _librosa_accepting_positional_mel(librosa):
    """librosa >= 0.10 made filters.mel keyword-only; the builder calls mel(sr, n_fft, ...)."""
    filters = types.SimpleNamespace(
        mel=lambda sr, n_fft, **kw: librosa.filters.mel(sr=sr, n_fft=n_fft, **kw))
    return types.SimpleNamespace(filters=filters, core=librosa.core, load=librosa.load)


@pytest.fixture(scope="module")
def builder():
    path = _find_builder()
    if path is None:
        pytest.skip("mmaction2's tools/data/build_audio_features.py is not installed; "
                    "phar_cli.media.audio's docstring lists the builder lines it follows")
    saved_path = list(sys.path)
    # Only the builder's __main__ block uses mmcv/mmengine (mkdir_or_exist): a placeholder saves
    # importing the OpenMMLab stack here; the AudioTools code runs as shipped.
    placeholders = [name for name in ("mmcv", "mmengine") if name not in sys.modules]
    for name in placeholders:
        sys.modules[name] = types.ModuleType(name)
    spec = importlib.util.spec_from_file_location("phar_test_build_audio_features", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved_path  # the builder appends '..' to sys.path
        for name in placeholders:
            del sys.modules[name]
    import librosa
    try:
        import lws  # noqa: F401
        module.lws = lws
    except ImportError:
        module.lws = _LwsStand_in
    module.librosa = _librosa_accepting_positional_mel(librosa)
    return module


def test_builder_defaults_are_not_the_seeds(builder):
    tools = builder.AudioTools()
    assert (tools.fft_size, tools.hop_size) == (1280, 320)


def test_log_mel_matches_the_builder(builder):
    rng = np.random.default_rng(1)
    t = np.arange(3 * RATE + 123) / RATE
    y = (0.4 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 2500 * t)
         + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    tools = builder.AudioTools(fft_size=512, hop_size=256)

    expected = tools.audio_to_spectrogram(tools.audio_normalize(y))  # read_audio minus the load

    ours = log_mel(y)
    assert ours.shape == expected.shape
    assert np.abs(ours - expected).max() < 1e-5


def test_stand_in_matches_the_real_lws():
    lws = pytest.importorskip("lws", reason="the lws extension is not installed")
    x = np.random.default_rng(2).standard_normal(RATE + 77)
    real = lws.lws(512, 256, mode="speech").stft(x)
    assert np.allclose(_LwsStand_in.lws(512, 256).stft(x), real, atol=1e-9)


def test_sound_blocks_measure_each_tenth_of_a_second_streamed_in_chunks(two_scene_video):
    from phar_cli.media.audio import sound_blocks

    whole = sound_blocks(two_scene_video, 4.0)
    chunked = sound_blocks(two_scene_video, 4.0, chunk_seconds=0.5)  # many reads: the same
    assert whole.level_db.shape == (40,) and whole.spectrum.shape == (40, 40)
    np.testing.assert_allclose(chunked.level_db, whole.level_db, atol=1e-6)
    loud, quiet = whole.level_db[2:18], whole.level_db[22:38]
    # a 1 kHz sine at -10 and -30 dBFS peak: mean power 3 dB under the peak
    assert np.allclose(loud, -13.0, atol=0.5) and np.allclose(quiet, -33.0, atol=0.5)
    assert (whole.spectrum[2:38].argmax(axis=1) == whole.spectrum[10].argmax()).all()


def test_sound_blocks_of_a_file_without_audio_are_none(silent_video):
    from phar_cli.media.audio import sound_blocks

    assert sound_blocks(silent_video, 2.0).level_db.shape == (0,)
