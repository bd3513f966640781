"""Clocks that move only when a test says so: nothing in the tests sleeps to wait for a timer."""

from __future__ import annotations

from xentara_ws.protocol.codec import TimePoint

START = 1_800_000_000.0
"""Seconds since the epoch (Jan 2027): the default wall-clock time of a test."""


class FakeClock:
    """A wall clock (or any clock read as a plain number): `clock()` is `clock.now`, in the unit the code
    under test reads (seconds since the epoch unless the test starts it elsewhere)."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# A round epoch instant far from 0, so phase arithmetic is exercised on realistic numbers.
EPOCH = 1_800_000_000 * 1_000_000_000


class ModelClock:
    """An injectable model clock (TimePoints in nanoseconds): tests move time explicitly."""

    def __init__(self, ns: int = EPOCH) -> None:
        self.ns = ns

    def __call__(self) -> TimePoint:
        return TimePoint(self.ns)

    def advance(self, seconds: float) -> TimePoint:
        self.ns += round(seconds * 1_000_000_000)
        return TimePoint(self.ns)


def at(seconds: float) -> TimePoint:
    """A time point `seconds` after the model clock's EPOCH."""
    return TimePoint(EPOCH + round(seconds * 1_000_000_000))
