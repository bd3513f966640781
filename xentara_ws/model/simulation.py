"""The clock-driven simulation: runs each sampler's `generate` task on its timer's schedule.

Pure code (no asyncio, no clock of its own): the server loop calls `step(now)` and sleeps until
`next_due(now)`.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from ..protocol.codec import TimePoint
from .element import Element
from .formats import parse_interval, split_key
from .skills import Sampler
from .tree import Model

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_NS = 100_000_000
"""Sampling interval of a sampler that no pipeline drives (100 ms)."""


@dataclass
class Schedule:
    """When one sampler runs: at `k * period + offset` on the Unix-epoch time line (reference 3.3)."""

    sampler: Sampler
    period_ns: int
    offset_ns: int = 0
    last_tick_ns: int | None = None

    def tick_at_or_before(self, now_ns: int) -> int:
        return (now_ns - self.offset_ns) // self.period_ns * self.period_ns + self.offset_ns

    def next_tick_after(self, now_ns: int) -> int:
        return self.tick_at_or_before(now_ns) + self.period_ns


class Simulation:
    """Makes the model's generated values move over time."""

    def __init__(
        self, model: Model, *, default_interval_ns: int = DEFAULT_INTERVAL_NS, seed: int | None = None
    ) -> None:
        self.model = model
        self.rng = random.Random(seed)
        self.suspended = False
        self.schedules = [
            Schedule(sampler, *self._timing(sampler, default_interval_ns))
            for sampler in model
            if isinstance(sampler, Sampler)
        ]

    def _timing(self, sampler: Sampler, default_interval_ns: int) -> tuple[int, int]:
        """Period and offset of the fastest timer whose pipeline runs `<sampler>.generate`."""
        task = sampler.primary_key + ".generate"
        best: tuple[int, int] | None = None
        for pipeline in self.model:
            if pipeline.model_type != "@Pipeline":
                continue
            tasks = [
                t.get("function")
                for segment in pipeline.config.get("segments", [])
                if isinstance(segment, dict)
                for t in segment.get("tasks", [])
                if isinstance(t, dict)
            ]
            if task not in tasks:
                continue
            for trigger in pipeline.config.get("triggers", []):
                timer = _trigger_timer(self.model, trigger)
                if timer is None:
                    continue
                try:
                    period = parse_interval(timer.config.get("period", "1s"))
                    offset = parse_interval(timer.config.get("offset", "0"))
                except ValueError:
                    continue
                if period > 0 and (best is None or period < best[0]):
                    best = (period, offset)
        if best is None:
            logger.info("no timer drives %s; sampling every %d ms", task, default_interval_ns // 1_000_000)
            return default_interval_ns, 0
        return best

    def step(self, now: TimePoint) -> int:
        """Run every sampler whose tick is due; returns how many ran.

        Values are stamped with the scheduled tick (as Xentara does), not with `now`; ticks missed
        while the caller was late are skipped rather than replayed.
        """
        if self.suspended:
            return 0
        ran = 0
        for schedule in self.schedules:
            tick = schedule.tick_at_or_before(now.ns)
            if schedule.last_tick_ns is not None and tick <= schedule.last_tick_ns:
                continue
            schedule.last_tick_ns = tick
            schedule.sampler.generate(TimePoint(tick), self.rng)
            ran += 1
        return ran

    def next_due(self, now: TimePoint) -> TimePoint | None:
        """When `step` next has work to do; None when suspended or nothing is generated."""
        if self.suspended or not self.schedules:
            return None
        due = []
        for schedule in self.schedules:
            tick = schedule.tick_at_or_before(now.ns)
            if schedule.last_tick_ns is None or tick > schedule.last_tick_ns:
                due.append(tick)  # already due: the caller should step right away
            else:
                due.append(schedule.next_tick_after(now.ns))
        return TimePoint(min(due))

    def pause(self) -> None:
        """Suspend: values freeze until resume()."""
        self.suspended = True

    def resume(self) -> None:
        self.suspended = False


def _trigger_timer(model: Model, trigger: object) -> Element | None:
    """The timer of a `<timer key>.expired` trigger, or None for other events."""
    if not isinstance(trigger, str):
        return None
    try:
        parts = split_key(trigger)
    except ValueError:
        return None
    if len(parts) < 2 or parts[-1] != "expired":
        return None
    element = model.lookup(".".join(parts[:-1]))
    return element if element is not None and element.model_type == "@Timer" else None
