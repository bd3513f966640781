"""The simulation as a node of a cluster runs it: only while this node holds the lease.

Wraps the model's `Simulation` (same `step`/`next_due`/`pause`/`resume`), so the server's
simulation loop stays as it is. A follower's loop wakes every `poll_seconds` to notice a lease it
just won; its first step then produces every value at once (its schedules have not ticked yet).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..protocol.codec import TimePoint

DEFAULT_POLL_SECONDS = 0.25


class LeaderOnlySimulation:
    def __init__(self, simulation: Any, is_leader: Callable[[], bool], *, poll_seconds: float = DEFAULT_POLL_SECONDS):
        self.simulation = simulation
        self.is_leader = is_leader
        self.poll_ns = int(poll_seconds * 1_000_000_000)

    @property
    def suspended(self) -> bool:
        return bool(self.simulation.suspended)

    def step(self, now: TimePoint) -> int:
        if not self.is_leader():
            return 0
        return int(self.simulation.step(now))

    def next_due(self, now: TimePoint) -> TimePoint | None:
        if not self.is_leader():
            return TimePoint(now.ns + self.poll_ns)
        due: TimePoint | None = self.simulation.next_due(now)
        return due

    def pause(self) -> None:
        self.simulation.pause()

    def resume(self) -> None:
        self.simulation.resume()
