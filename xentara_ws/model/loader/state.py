"""What every loading phase shares: the source name, the clock, the collected errors and the element nodes."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ...protocol.codec import TimePoint
from .rules import Node


class BuildState:
    """The loader's shared state; each phase is a mixin over it."""

    def __init__(self, source: str, clock: Callable[[], TimePoint]) -> None:
        self.source = source
        self.clock = clock
        self.errors: list[str] = []
        self.nodes: list[Node] = []
        self.by_uuid: dict[uuid.UUID, str] = {}
        self.by_key: dict[str, Node] = {}
        self.referenced: set[str] = set()
        self.resolved: dict[str, Node] = {}
        """Element references already resolved (key as written -> element), reused when attaching."""

    def error(self, path: str, problem: str) -> None:
        self.errors.append(f"{self.source}: {path}: {problem}")
