"""A fake Stash per test (tests/stash/fake_stash.py), predictions JSONs written by phar's own JSON
writer from hand-made windows, and the CLI run with the server's key in the environment."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from phar_cli.core.segments import merge_segments
from phar_cli.outputs import get_writer
from tests.conftest import run_phar
from tests.mediacheck import hand_analysis
from tests.stash.fake_stash import FakeStash

LABELS = ["kissing", "fondling", "doggy", "other"]
KEY = "test-key-7f3a9c"


@pytest.fixture
def stash(monkeypatch) -> Iterator[FakeStash]:
    fake = FakeStash(api_key=KEY)
    fake.start()
    monkeypatch.setenv("PHAR_STASH_API_KEY", KEY)
    yield fake
    fake.stop()


@pytest.fixture
def old_stash(monkeypatch) -> Iterator[FakeStash]:
    """A Stash from before marker end times."""
    fake = FakeStash(api_key=KEY, end_seconds=False)
    fake.start()
    monkeypatch.setenv("PHAR_STASH_API_KEY", KEY)
    yield fake
    fake.stop()


def write_predictions(path: Path, video: str | Path, tops: list[tuple[str, float]],
                      window: float = 7.0, labels: list[str] = LABELS) -> Path:
    """A predictions JSON of `video` whose window i (of `window` s) has top label tops[i]."""
    analysis = hand_analysis(str(video), window * len(tops), tops, window, labels)
    path.parent.mkdir(parents=True, exist_ok=True)
    get_writer("json").write(analysis, merge_segments(analysis.windows), path)
    return path


def phar(capsys, *argv: object) -> tuple[int, str, str]:
    return run_phar(["stash", *argv], capsys)
