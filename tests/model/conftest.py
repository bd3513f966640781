"""Shared fixtures for model tests: paths to the vendor fixtures and a controllable clock."""

from __future__ import annotations

import pytest
from support.fixtures import DEMO_SIGNALS, FIXTURE_MODELS, FIXTURES, MODEL_SCHEMA, SAMPLE_MODEL, WAGO_MODEL

from xentara_ws.protocol.codec import TimePoint

__all__ = ["DEMO_SIGNALS", "FIXTURES", "MODEL_SCHEMA", "SAMPLE_MODEL", "WAGO_MODEL"]
ALL_FIXTURE_MODELS = list(FIXTURE_MODELS)

# A round epoch instant far from 0, so phase arithmetic is exercised on realistic numbers.
EPOCH = 1_800_000_000 * 1_000_000_000


class FakeClock:
    """An injectable model clock: tests move time explicitly, nothing sleeps."""

    def __init__(self, ns: int = EPOCH) -> None:
        self.ns = ns

    def __call__(self) -> TimePoint:
        return TimePoint(self.ns)

    def advance(self, seconds: float) -> TimePoint:
        self.ns += round(seconds * 1_000_000_000)
        return TimePoint(self.ns)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def at(seconds: float) -> TimePoint:
    """A time point `seconds` after the test epoch."""
    return TimePoint(EPOCH + round(seconds * 1_000_000_000))
