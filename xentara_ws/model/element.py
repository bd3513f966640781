"""Elements of the model tree: identity, attributes, value state and change notification.

This is the contract the server's command handlers use. Element types differ only in which
attributes they have (their `AttributeSpec`s) and in what a write does (`accept_write`).
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..protocol.codec import TIME_POINT_MIN, TimePoint
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.identifiers import Access, Attribute, DataType, ElementCategory, Quality
from . import values

AttributeKey = int | uuid.UUID
"""How an attribute is addressed on the wire: a standard id (0-13) or the attribute's UUID."""

ChangeListener = Callable[["Element", frozenset[AttributeKey]], None]
"""Called with the element and the wire keys of the attributes that changed."""

WriteCallback = Callable[["Element", "AttributeSpec", Any], None]


class ElementOwner(Protocol):
    """What an element needs of the model it belongs to (the model tree implements it)."""

    @property
    def clock(self) -> Callable[[], TimePoint]: ...

    def apply(self, change: Callable[[], None]) -> None:
        """Run `change` on the thread that serves the model: at once there, handed over elsewhere."""


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """One attribute of one element type, as meta_data describes it."""

    key: AttributeKey
    uuid: uuid.UUID
    name: str
    access: Access
    data_type: DataType


# Specs are frozen values shared by every element of a type: a large model builds millions of
# them otherwise (the bulk of its start-up time). The argument space is small, so the caches
# are bounded far above what the element types use.
@functools.lru_cache(maxsize=4096)
def standard_attribute(
    attribute: Attribute, access: Access = Access.READ_ONLY, data_type: DataType | None = None
) -> AttributeSpec:
    return AttributeSpec(
        key=int(attribute),
        uuid=attribute.uuid,
        name=attribute.attribute_name,
        access=access,
        data_type=data_type if data_type is not None else STANDARD_DATA_TYPES[attribute],
    )


@functools.lru_cache(maxsize=4096)
def custom_attribute(
    name: str, access: Access, data_type: DataType, attribute_uuid: uuid.UUID | None = None
) -> AttributeSpec:
    """An attribute outside 0-13; its UUID is stable across restarts (UUIDv5 of its name)."""
    key = attribute_uuid if attribute_uuid is not None else uuid.uuid5(CUSTOM_ATTRIBUTE_NAMESPACE, name)
    return AttributeSpec(key=key, uuid=key, name=name, access=access, data_type=data_type)


CUSTOM_ATTRIBUTE_NAMESPACE = uuid.UUID("5b0b4d1e-6c52-4cf6-9a1f-0c0e3b8f6a11")

STANDARD_DATA_TYPES: dict[Attribute, DataType] = {
    Attribute.PRIMARY_KEY: DataType.STRING,
    Attribute.NAME: DataType.STRING,
    Attribute.UUID: DataType.UUID,
    Attribute.TYPE: DataType.STRING,
    Attribute.CATEGORY: DataType.ELEMENT_CATEGORY,
    Attribute.SOURCE_TIME: DataType.TIME_POINT,
    Attribute.UPDATE_TIME: DataType.TIME_POINT,
    Attribute.CHANGE_TIME: DataType.TIME_POINT,
    Attribute.WRITE_TIME: DataType.TIME_POINT,
    Attribute.QUALITY: DataType.QUALITY,
    Attribute.DEVICE_STATE: DataType.BOOLEAN,
    Attribute.VALUE: DataType.FLOAT_64,
    Attribute.ERROR: DataType.ERROR_CODE,
    Attribute.WRITE_ERROR: DataType.ERROR_CODE,
}

IDENTITY_ATTRIBUTES: tuple[AttributeSpec, ...] = tuple(
    standard_attribute(a)
    for a in (Attribute.PRIMARY_KEY, Attribute.NAME, Attribute.UUID, Attribute.TYPE, Attribute.CATEGORY)
)
"""Attributes 0-4, which every element has."""

_VALUE_KEY = int(Attribute.VALUE)
_STANDARD_KEYS: dict[uuid.UUID, int] = {attribute.uuid: int(attribute) for attribute in Attribute}
"""The wire key of each standard attribute, from its UUID."""


class Element:
    """A node of the model tree.

    Value state (value, quality, time stamps, errors) lives here so that every element type
    reads the same way; `attributes` decides which of them a client can see.
    """

    def __init__(
        self,
        *,
        name: str,
        element_uuid: uuid.UUID,
        model_type: str,
        type_name: str,
        category: ElementCategory,
        attributes: tuple[AttributeSpec, ...] = IDENTITY_ATTRIBUTES,
        acl: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.uuid = element_uuid
        self.model_type = model_type
        self.type_name = type_name
        self.category = category
        self.acl = acl
        self.config: Mapping[str, Any] = config or {}
        self.parent: Element | None = None
        self.children: list[Element] = []
        self.primary_key = ""
        # Keyed by the wire key: standard ids for 0-13, the UUID for the others (which is their key);
        # a standard attribute addressed by UUID is found through _STANDARD_KEYS, so no element
        # needs a second index (hashing every attribute's UUID dominated the loading of big models).
        self.attributes: dict[AttributeKey, AttributeSpec] = {spec.key: spec for spec in attributes}
        self.value: Any = None
        self.quality = Quality.BAD
        self.source_time: TimePoint = TIME_POINT_MIN
        self.update_time: TimePoint = TIME_POINT_MIN
        self.change_time: TimePoint = TIME_POINT_MIN
        self.write_time: TimePoint = TIME_POINT_MIN
        self.error = 0
        self.write_error = 0
        self.device_state = True
        self.custom_values: dict[AttributeKey, Any] = {}
        self.listeners: list[ChangeListener] = []
        self.write_callbacks: list[WriteCallback] = []
        self.version = 0
        """Counts notifications: anything derived from this element's values is stale once it moves."""
        self.model: ElementOwner | None = None
        """The model this element belongs to (set by Model.reindex); gives publish() its clock."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.primary_key or '(root)'} {self.model_type}>"

    # -- tree -------------------------------------------------------------------------------

    def add_child(self, child: Element) -> None:
        child.parent = self
        self.children.append(child)

    def ancestors(self) -> list[Element]:
        """The chain from the parent up to the root."""
        chain = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def descendants(self, depth: int | None = None) -> list[Element]:
        """Descendants in depth-first pre-order, down to `depth` levels (None = all)."""
        out: list[Element] = []
        stack: list[tuple[Element, int]] = [(c, 1) for c in reversed(self.children)]
        while stack:
            node, level = stack.pop()
            out.append(node)
            if depth is None or level < depth:
                stack.extend((c, level + 1) for c in reversed(node.children))
        return out

    # -- attributes -------------------------------------------------------------------------

    def add_attribute(self, spec: AttributeSpec) -> None:
        self.attributes[spec.key] = spec

    def attribute(self, key: object) -> AttributeSpec:
        """The attribute addressed by a wire key (int id or UUID); -32101 if this element lacks it."""
        spec: AttributeSpec | None
        if type(key) is int:
            spec = self.attributes.get(key)
        elif type(key) is uuid.UUID:
            spec = self.attributes.get(_STANDARD_KEYS.get(key, key))
        else:  # a bool or float equal to an id is not that id
            spec = None
        if spec is None:
            raise ProtocolError(ErrorCode.MISSING_ATTRIBUTE)
        return spec

    @property
    def data_type(self) -> DataType | None:
        spec = self.attributes.get(_VALUE_KEY)
        return spec.data_type if spec is not None else None

    def read(self, spec: AttributeSpec) -> Any:
        """The current value of an attribute this element has; -32104 for write-only ones."""
        if spec.access is Access.WRITE_ONLY:
            raise ProtocolError(ErrorCode.WRITE_ONLY)
        return self.read_unchecked(spec)

    def read_unchecked(self, spec: AttributeSpec) -> Any:
        key = spec.key
        if type(key) is int:
            return _STANDARD_READERS[key](self)
        return self.custom_values.get(key)

    def write(self, spec: AttributeSpec, value: Any, now: TimePoint) -> None:
        """Write an already converted value; -32103 for read-only attributes."""
        if spec.access is Access.READ_ONLY:
            raise ProtocolError(ErrorCode.READ_ONLY)
        self.accept_write(spec, value, now)
        for callback in self.write_callbacks:
            callback(self, spec, value)

    def accept_write(self, spec: AttributeSpec, value: Any, now: TimePoint) -> None:
        """What a write does; element types override this. The default stores the value."""
        if spec.key == _VALUE_KEY:
            self.write_time = now
            self.write_error = 0
            self.update(value, now, changed_extra=(int(Attribute.WRITE_TIME), int(Attribute.WRITE_ERROR)))
        else:
            self.custom_values[spec.key] = value
            self.notify(frozenset((spec.key,)))

    # -- value updates and change notification ----------------------------------------------

    def update(
        self,
        value: Any,
        now: TimePoint,
        quality: Quality = Quality.GOOD,
        error: int = 0,
        source_time: TimePoint | None = None,
        changed_extra: tuple[AttributeKey, ...] = (),
    ) -> None:
        """Record a newly produced value and notify listeners of what changed."""
        changed: set[AttributeKey] = {int(Attribute.UPDATE_TIME), *changed_extra}
        if value != self.value or type(value) is not type(self.value) or quality != self.quality or error != self.error:
            if value != self.value or type(value) is not type(self.value):
                changed.add(_VALUE_KEY)
            if quality != self.quality:
                changed.add(int(Attribute.QUALITY))
            if error != self.error:
                changed.add(int(Attribute.ERROR))
            self.value = value
            self.quality = quality
            self.error = error
            self.change_time = now
            changed.add(int(Attribute.CHANGE_TIME))
        self.update_time = now
        if source_time is not None:
            self.source_time = source_time
            changed.add(int(Attribute.SOURCE_TIME))
        # Listeners only ever hear about attributes this element actually has.
        self.notify(frozenset(changed.intersection(self.attributes)))

    def notify(self, changed: frozenset[AttributeKey]) -> None:
        """Hand the same frozenset to every listener: one change costs no per-listener copies."""
        if not changed:
            return
        self.version += 1
        for listener in tuple(self.listeners):  # a listener may unsubscribe itself
            listener(self, changed)

    # -- embedding API ----------------------------------------------------------------------

    def now(self) -> TimePoint:
        """The model clock (injectable in tests), or the wall clock for a detached element."""
        if self.model is not None:
            return self.model.clock()
        return TimePoint(time.time_ns())

    def publish(
        self,
        value: Any,
        quality: Quality = Quality.GOOD,
        time: TimePoint | None = None,
        *,
        error: int = 0,
        source_time: TimePoint | None = None,
    ) -> None:
        """Feed a value from outside (gateway use): converted to the element's data type.

        Raises ValueError if the element has no value, ProtocolError (-32106/-32105) if the value
        does not fit its data type; both in the caller's thread. Any thread may publish: off the
        thread serving the model, the checked value is handed to it and applied there, in order.
        """
        data_type = self.data_type
        if data_type is None:
            raise ValueError(f"{self.primary_key or '(root)'} has no value attribute")
        converted = values.convert(data_type, value)
        checked_quality = Quality(quality)
        now = time if time is not None else self.now()
        owner = self.model
        if owner is None:
            self.update(converted, now, checked_quality, error, source_time)
        else:
            owner.apply(functools.partial(self.update, converted, now, checked_quality, error, source_time))

    def on_write(self, callback: WriteCallback) -> WriteCallback:
        """Call `callback(element, spec, value)` after every accepted client write; usable as decorator."""
        self.write_callbacks.append(callback)
        return callback

    def subscribe(self, listener: ChangeListener) -> None:
        self.listeners.append(listener)

    def unsubscribe(self, listener: ChangeListener) -> None:
        try:
            self.listeners.remove(listener)
        except ValueError:
            pass


_STANDARD_READERS: dict[int, Callable[[Element], Any]] = {
    Attribute.PRIMARY_KEY: lambda e: e.primary_key,
    Attribute.NAME: lambda e: e.name,
    Attribute.UUID: lambda e: e.uuid,
    Attribute.TYPE: lambda e: e.type_name,
    Attribute.CATEGORY: lambda e: e.category.text,
    Attribute.SOURCE_TIME: lambda e: e.source_time,
    Attribute.UPDATE_TIME: lambda e: e.update_time,
    Attribute.CHANGE_TIME: lambda e: e.change_time,
    Attribute.WRITE_TIME: lambda e: e.write_time,
    Attribute.QUALITY: lambda e: int(e.quality),
    Attribute.DEVICE_STATE: lambda e: e.device_state,
    Attribute.VALUE: lambda e: e.value,
    Attribute.ERROR: lambda e: e.error,
    Attribute.WRITE_ERROR: lambda e: e.write_error,
}
