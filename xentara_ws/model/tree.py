"""The model tree: the root element, indexes by UUID and primary key, and the simulation clock."""

from __future__ import annotations

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
        self.reindex()

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
