"""The model tree: the root element, indexes by UUID and primary key, and the simulation clock."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator

from ..protocol.codec import TimePoint
from ..protocol.identifiers import NIL_UUID, ElementCategory
from .element import Element


def key_component(name: str) -> str:
    """A name as it appears in a primary key: names containing a period are written in [...]."""
    if "." in name and not (name.startswith("[") and name.endswith("]")):
        return f"[{name}]"
    return name


def wall_clock() -> TimePoint:
    return TimePoint(time.time_ns())


class Model:
    """An element tree under an anonymous root, indexed by UUID and by primary key."""

    def __init__(
        self, root: Element | None = None, *, path: str | None = None, clock: Callable[[], TimePoint] = wall_clock
    ) -> None:
        self.root = root if root is not None else make_root()
        self.path = path
        self.clock = clock
        self._by_uuid: dict[uuid.UUID, Element] = {}
        self._by_key: dict[str, Element] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        """The event loop serving this model (set by the server): value changes are applied on it."""
        self.reindex()

    def bind_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Serve the model from `loop` (None: no loop, changes apply in the caller's thread)."""
        self.loop = loop

    def apply(self, change: Callable[[], None]) -> None:
        """Run a value change on the loop serving the model: at once on its thread, else handed over.

        Listeners (subscriptions, the cluster) run on the loop and are not thread-safe, so a
        gateway thread's change must wake the loop rather than notify from its own thread.
        """
        loop = self.loop
        if loop is None:
            change()
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            change()
        else:
            loop.call_soon_threadsafe(change)

    def reindex(self) -> None:
        """Recompute primary keys and both indexes after the tree was built or changed."""
        self._by_uuid = {self.root.uuid: self.root}
        self._by_key = {}
        self.root.model = self
        for element in self.root.descendants():
            element.model = self
            parent = element.parent
            prefix = parent.primary_key + "." if parent is not None and parent is not self.root else ""
            element.primary_key = prefix + key_component(element.name)
            self._by_uuid[element.uuid] = element
            self._by_key[element.primary_key] = element

    def find(self, element_uuid: uuid.UUID) -> Element | None:
        """The element with this UUID; the nil UUID is the root."""
        return self._by_uuid.get(element_uuid)

    def lookup(self, primary_key: str) -> Element | None:
        return self._by_key.get(primary_key)

    def element(self, primary_key: str) -> Element:
        """The element with this primary key, for programs embedding the server."""
        found = self._by_key.get(primary_key)
        if found is None:
            raise KeyError(f"no element with primary key {primary_key!r}")
        return found

    def __iter__(self) -> Iterator[Element]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)


def make_root() -> Element:
    return Element(
        name="",
        element_uuid=NIL_UUID,
        model_type="",
        type_name="root element",
        category=ElementCategory.ROOT_ELEMENT,
    )
