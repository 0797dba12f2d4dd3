"""A time span in seconds, shared by windows, segments and cuts."""
from __future__ import annotations

from dataclasses import dataclass

SAME_TIME = 1e-3  # seconds: times closer than this are the same time (windows are rounded to 1 µs)


@dataclass(frozen=True, order=True)
class Span:
    start: float
    end: float

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"span ends before it starts: {self.start} > {self.end}")

    @property
    def duration(self) -> float:
        return self.end - self.start

    def overlap(self, other: Span) -> float:
        return max(0.0, min(self.end, other.end) - max(self.start, other.start))
