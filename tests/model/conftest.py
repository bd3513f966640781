"""Fixtures of the model tests: a controllable model clock."""

from __future__ import annotations

import pytest
from support.clocks import ModelClock


@pytest.fixture
def clock() -> ModelClock:
    return ModelClock()
