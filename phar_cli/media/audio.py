"""The audio stream: one decode per video, then loudness and log-mel features in memory.

`log_mel` reproduces the features the seed's audio checkpoint was trained on: MMAction2 0.x
`tools/data/build_audio_features.py`, `AudioTools(fft_size=512, hop_size=256)` with its default
`spectrogram_type='lws'`, as `read_audio` + `audio_to_spectrogram` compute them:
  - `audio_normalize`: scale to an RMS of 0.1 (RMS floored at 1e-4);
  - `melspectrogram`: `lws.lws(512, 256, mode='speech').stft(y)` (no lws needed here: its STFT is
    re-done in numpy below, same window, padding and frame count), magnitude, times
    `librosa.filters.mel(16000, 512, fmin=125, fmax=7600, n_mels=80)` (slaney, as librosa's
    default), `_amp_to_db` (20·log10 floored at -100 dB) minus `REF_LEVEL_DB` 20, `_normalize`
    ((S + 100) / 100 clipped to [0, 1]); transposed to (T, 80) float32.
The builder shipped with mmaction2 1.2.0 has the same code with other defaults (1280/320), so
tests run that file's `AudioTools` with 512/256 and compare.
"""
from __future__ import annotations

import functools
import math
import os
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from phar_cli.spans import Span
from phar_cli.errors import AudioDecodeError, VideoOpenError
from phar_cli.media.ffmpeg import popen_ffmpeg, run_ffmpeg, stderr_tail
from phar_cli.media.probe import read_header

SAMPLE_RATE = 16000
# The seed's log-mel settings: what the audio model is trained and run on (a model config's
# `audio_features` may name others; the shipped configs repeat these, checked by a test).
AUDIO_FEATURES = dict(sample_rate=SAMPLE_RATE, fft_size=512, hop_size=256, n_mels=80, fmin=125,
                      fmax=7600)
FEATURE_RATE = SAMPLE_RATE / AUDIO_FEATURES["hop_size"]  # log-mel frames per second (62.5)
MIN_LEVEL_DB = -100.0
REF_LEVEL_DB = 20.0
DESIRED_RMS = 0.1


def load_waveform(path: str | os.PathLike[str], sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The file's audio as float32 mono at `sample_rate`, decoded by one ffmpeg pipe.

    A file without an audio stream gives an empty array (the audio stream is then simply not
    run), not an error; a missing file raises VideoOpenError; an audio stream that ffmpeg cannot
    decode raises AudioDecodeError naming the file.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise VideoOpenError(f"{path}: file not found")
    proc = run_ffmpeg(_decode_args(path, sample_rate), "decoding audio", check=False)
    if proc.returncode != 0:
        _decode_failed(path, stderr_tail(proc.stderr))
        return np.zeros(0, np.float32)
    return np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)


def window_waveforms(path: str | os.PathLike[str], spans: Sequence[Span],
                     sample_rate: int = SAMPLE_RATE) -> Iterator[tuple[int, np.ndarray]]:
    """(index, samples) of each span, in order of start, read from one ffmpeg pipe as it decodes.

    The same samples as slicing `load_waveform` (`[int(start*sr):int(end*sr)]`), but memory holds
    one window and not the whole track, so an hour of audio costs what a minute does. Nothing is
    yielded for a file without audio; errors are those of `load_waveform`.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise VideoOpenError(f"{path}: file not found")
    order = sorted(range(len(spans)), key=lambda i: (spans[i].start, spans[i].end))
    proc, tail = popen_ffmpeg(_decode_args(path, sample_rate), stdout=subprocess.PIPE)
    buffer, first = np.zeros(0, np.float32), 0  # the samples held, and the index of the first
    eof = False
    try:
        for n, i in enumerate(order):
            a, b = int(spans[i].start * sample_rate), int(spans[i].end * sample_rate)
            while not eof and first + len(buffer) < b:
                want = 4 * max(sample_rate, b - first - len(buffer))
                chunk = proc.stdout.read(want)  # a short read is the end of the stream
                eof = len(chunk) < want
                buffer = np.concatenate([buffer, np.frombuffer(chunk[:len(chunk) // 4 * 4], "<f4")])
            if n == 0 and eof and not len(buffer):
                break  # no audio at all (or a failure, told apart below)
            yield i, buffer[max(a - first, 0):max(b - first, 0)].copy()
            if n + 1 < len(order):  # keep what the next span (and those after it) still need
                keep_from = int(spans[order[n + 1]].start * sample_rate)
                drop = min(max(keep_from - first, 0), len(buffer))
                buffer, first = buffer[drop:], first + drop
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if not eof:  # every span was read before the end: the rest is not needed
        proc.kill()
        proc.wait()
        return
    if proc.wait() != 0:
        _decode_failed(path, tail.text())


@dataclass(frozen=True)
class SoundBlocks:
    """The sound of a whole video in short blocks: how loud, and what spectrum."""

    block: float            # seconds a block
    level_db: np.ndarray    # (N,) mean power in dB full scale (digital silence: SILENCE_DB)
    spectrum: np.ndarray    # (N, bands) mel-band power


SILENCE_DB = -100.0


def sound_blocks(path: str | os.PathLike[str], duration: float, *, block: float = 0.1,
                 bands: int = 40, sample_rate: int = SAMPLE_RATE,
                 chunk_seconds: float = 60.0) -> SoundBlocks:
    """Level and mel spectrum of every `block` seconds of the file's audio, streamed a chunk at a
    time (memory holds one chunk, whatever the length). No audio: zero blocks."""
    size = int(round(block * sample_rate))
    spans = [Span(round(t, 6), round(min(t + chunk_seconds, duration), 6))
             for t in np.arange(0.0, duration, chunk_seconds)]
    levels, spectra = [], []
    basis = _mel_basis(sample_rate, size, bands, 60.0, min(7600.0, sample_rate / 2))
    window = np.hanning(size)
    for _, samples in window_waveforms(path, spans, sample_rate):
        n = len(samples) // size
        if not n:
            continue
        frames = samples[:n * size].reshape(n, size).astype(np.float64)
        power = np.mean(frames ** 2, axis=1)
        levels.append(np.where(power > 0, 10 * np.log10(np.maximum(power, 1e-30)), SILENCE_DB))
        spectra.append((np.abs(np.fft.rfft(frames * window, axis=1)) ** 2) @ basis.T)
    if not levels:
        return SoundBlocks(block, np.zeros(0), np.zeros((0, bands)))
    return SoundBlocks(block, np.maximum(np.concatenate(levels), SILENCE_DB),
                       np.concatenate(spectra))


def _decode_args(path: str, sample_rate: int) -> list[str]:
    return ["-i", "file:" + os.path.abspath(path), "-vn", "-sn", "-dn", "-ac", "1", "-ar",
            str(sample_rate), "-f", "f32le", "-"]


def _decode_failed(path: str, message: str) -> None:
    """Return quietly when the file has no audio stream; else raise AudioDecodeError."""
    try:
        has_audio = bool(read_header(path).audio_rates)
    except VideoOpenError:
        has_audio = True  # not media at all: report the decode failure
    if has_audio:
        raise AudioDecodeError(f"{path}: cannot decode audio: {message}")


def integrated_loudness(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4, pyloudnorm).

    Silence, and input shorter than one 400 ms gating block, give -inf: "not loud", so a
    loudness gate simply stays shut instead of failing.
    """
    import pyloudnorm

    samples = np.asarray(samples, dtype=np.float64)
    if samples.size < int(0.4 * sample_rate) + 1 or not np.any(samples):
        return -math.inf
    try:
        value = float(pyloudnorm.Meter(sample_rate).integrated_loudness(samples))
    except ValueError:
        return -math.inf
    return value if math.isfinite(value) else -math.inf


def log_mel(samples: np.ndarray, sample_rate: int = SAMPLE_RATE,
            fft_size: int = AUDIO_FEATURES["fft_size"], hop_size: int = AUDIO_FEATURES["hop_size"],
            n_mels: int = AUDIO_FEATURES["n_mels"], fmin: float = AUDIO_FEATURES["fmin"],
            fmax: float = AUDIO_FEATURES["fmax"]) -> np.ndarray:
    """(T, n_mels) float32 log-mel in [0, 1], as the seed's feature builder made it."""
    y = np.asarray(samples, dtype=np.float32)
    rms = np.maximum(1e-4, np.sqrt(np.mean(y ** 2))) if y.size else np.float32(1e-4)
    y = y * (DESIRED_RMS / rms)
    magnitude = np.abs(_lws_stft(y.astype(np.float64), fft_size, hop_size))
    mel = _mel_basis(sample_rate, fft_size, n_mels, float(fmin), float(fmax)) @ magnitude.T
    min_level = np.exp(MIN_LEVEL_DB / 20 * np.log(10))
    db = 20 * np.log10(np.maximum(min_level, mel)) - REF_LEVEL_DB
    return np.clip((db - MIN_LEVEL_DB) / -MIN_LEVEL_DB, 0, 1).astype(np.float32).T


def window_features(features: np.ndarray, span: Span,
                    frames_per_second: float = FEATURE_RATE) -> np.ndarray:
    """The rows of a (T, F) feature array that fall in `span` (feature frame m is at m/fps)."""
    start = math.floor(span.start * frames_per_second + 0.5)
    end = math.floor(span.end * frames_per_second + 0.5)
    start = min(max(start, 0), len(features))
    return features[start:min(max(end, start), len(features))]


def _lws_stft(x: np.ndarray, fsize: int, fshift: int) -> np.ndarray:
    """lws 1.2.x `lws(fsize, fshift).stft(x)` (perfectrec=True): (M, fsize//2 + 1) complex.

    Window sqrt(hann_lws · 2·fshift/fsize) with lws's half-sample-offset "symmetric" Hann,
    fsize - fshift zeros on both sides, frames every fshift samples, the last one zero-filled.
    """
    if fsize % fshift:
        raise ValueError("lws needs a hop that divides the window")
    n = np.arange(1, 2 * fsize, 2)
    window = np.sqrt(0.5 * (1 - np.cos(2 * np.pi * n / (2 * fsize))) * 2 * fshift / fsize)
    pad = np.zeros(fsize - fshift)
    x = np.concatenate([pad, x, pad])
    count = (len(x) - fsize) // fshift + (1 if len(x) % fshift == 0 else 2)
    x = np.concatenate([x, np.zeros((count - 1) * fshift + fsize - len(x))])
    frames = np.lib.stride_tricks.sliding_window_view(x, fsize)[::fshift][:count]
    return np.fft.rfft(frames * window, n=fsize)


@functools.lru_cache(maxsize=4)
def _mel_basis(sample_rate: int, fft_size: int, n_mels: int, fmin: float,
               fmax: float) -> np.ndarray:
    import librosa

    if fmax > sample_rate // 2:
        raise ValueError(f"fmax {fmax} is above the Nyquist frequency of {sample_rate} Hz")
    return librosa.filters.mel(sr=sample_rate, n_fft=fft_size, fmin=fmin, fmax=fmax,
                               n_mels=n_mels)
