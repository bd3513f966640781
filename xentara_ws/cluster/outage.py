"""What a node shows while it has lost NATS: the last known values, marked `unreliable`.

While disconnected a node cannot hear changes made elsewhere, so every value it holds may be stale:
elements with a quality attribute and a good or acceptable quality are marked UNRELIABLE (quality 2)
and their listeners are told, so subscribers see it. A value produced on this node during the outage
(a client's write, an embedding program's publish) is fresh again and carries its own quality. When
NATS is back, the qualities of values nothing changed since are put back, and the node then asks the
cluster for a snapshot, which brings every value changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..model.element import Element
from ..protocol.identifiers import Attribute, Quality

_QUALITY = int(Attribute.QUALITY)
_CHANGED = frozenset((_QUALITY,))
MARK = Quality.UNRELIABLE


class OutageMarks:
    def __init__(self, elements: Callable[[], Iterable[Element]]) -> None:
        self.elements = elements
        self.marked: dict[Element, tuple[Quality, int]] = {}
        """Element -> (its quality before, its version right after marking)."""

    def mark(self) -> int:
        """Mark every good or acceptable value unreliable; returns how many were marked."""
        for element in self.elements():
            if _QUALITY in element.attributes and element.quality in (Quality.GOOD, Quality.ACCEPTABLE):
                before = element.quality
                element.quality = MARK
                element.notify(_CHANGED)
                self.marked[element] = (before, element.version)
        return len(self.marked)

    def clear(self) -> int:
        """Put back the qualities that nothing changed since they were marked; returns how many."""
        restored = 0
        marked, self.marked = self.marked, {}
        for element, (quality, version) in marked.items():
            if element.version == version:  # nothing changed it since
                element.quality = quality
                element.notify(_CHANGED)
                restored += 1
        return restored
