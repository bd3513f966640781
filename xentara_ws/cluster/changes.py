"""Value changes on the wire between nodes: what one element's state is, encoded once, applied anywhere.

Pure code (no NATS, no asyncio). A change carries the element's whole value state (value,
quality, time stamps, errors, custom attribute values), not only what changed, so that applying a
change is idempotent and a snapshot record is simply the latest change of an element.

Order: every change carries a stamp (nanoseconds on the origin's wall clock) and the origin's node
name; a node applies a remote change only if (stamp, origin) is greater than that of the change it
holds for the element. Two nodes writing the same element at once therefore end up with the same
value (the later write, ties broken by node name) instead of each keeping the other's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ..model.element import AttributeKey, Element
from ..protocol import codec
from ..protocol.codec import TimePoint
from ..protocol.identifiers import Attribute, Quality

# Standard attributes that hold state (5-13), and the Element field each is kept in.
STATE_FIELDS: dict[int, str] = {
    int(Attribute.SOURCE_TIME): "source_time",
    int(Attribute.UPDATE_TIME): "update_time",
    int(Attribute.CHANGE_TIME): "change_time",
    int(Attribute.WRITE_TIME): "write_time",
    int(Attribute.QUALITY): "quality",
    int(Attribute.DEVICE_STATE): "device_state",
    int(Attribute.VALUE): "value",
    int(Attribute.ERROR): "error",
    int(Attribute.WRITE_ERROR): "write_error",
}

_QUALITIES = frozenset(int(q) for q in Quality)
_ORIGIN, _STAMP, _CHANGED, _STATE, _ELEMENT = 0, 1, 2, 3, 4


class ChangeFormatError(ValueError):
    """A message on a value subject that is not a change this version understands."""


@dataclass(frozen=True, slots=True)
class ValueChange:
    """One element's value state after a change, as published on `xws.<cluster>.v.<element-uuid>`."""

    element: uuid.UUID
    origin: str
    stamp: int
    changed: frozenset[AttributeKey]
    state: dict[AttributeKey, Any]

    @property
    def order(self) -> tuple[int, str]:
        return (self.stamp, self.origin)

    def encode(self) -> bytes:
        return codec.encode(
            {
                _ORIGIN: self.origin,
                _STAMP: self.stamp,
                _CHANGED: sorted(self.changed, key=_sort_key),
                _STATE: self.state,
                _ELEMENT: self.element,
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> ValueChange:
        try:
            item = codec.decode(data)
        except codec.CBORProfileError as error:
            raise ChangeFormatError(str(error)) from None
        if not isinstance(item, dict):
            raise ChangeFormatError("a value change must be a CBOR map")
        origin, stamp, changed, state, element = (item.get(k) for k in (_ORIGIN, _STAMP, _CHANGED, _STATE, _ELEMENT))
        if type(origin) is not str or type(stamp) is not int or not isinstance(element, uuid.UUID):
            raise ChangeFormatError("a value change needs an origin, a stamp and an element UUID")
        if not isinstance(changed, list) or not isinstance(state, dict):
            raise ChangeFormatError("a value change needs a list of changed attributes and a state map")
        keys = frozenset(changed)
        if not all(type(k) is int or isinstance(k, uuid.UUID) for k in keys | state.keys()):
            raise ChangeFormatError("attribute keys must be integers or UUIDs")
        quality = state.get(int(Attribute.QUALITY), 0)
        if type(quality) is not int or quality not in _QUALITIES:
            raise ChangeFormatError(f"{quality!r} is not a quality")
        return cls(element=element, origin=origin, stamp=stamp, changed=keys, state=state)


def _sort_key(key: AttributeKey) -> tuple[int, str]:
    return (0, f"{key:04d}") if isinstance(key, int) else (1, str(key))


def capture(element: Element, changed: frozenset[AttributeKey], origin: str, stamp: int) -> ValueChange:
    """The element's current value state, for publishing after a local change."""
    state: dict[AttributeKey, Any] = {}
    for key in element.attributes:
        if type(key) is int:
            field_name = STATE_FIELDS.get(key)
            if field_name is not None:
                value = getattr(element, field_name)
                state[key] = int(value) if key == Attribute.QUALITY else value
        else:
            state[key] = element.custom_values.get(key)
    return ValueChange(element=element.uuid, origin=origin, stamp=stamp, changed=changed, state=state)


def apply(element: Element, change: ValueChange) -> frozenset[AttributeKey]:
    """Store a remote change in the local element and notify its listeners; returns what was notified.

    Listeners hear about the attributes the origin said changed plus any whose local value differed
    (a snapshot record names none: it only brings a node up to date). Attributes the local element
    does not have are ignored: nodes should load the same model, but one with an older model must
    not fail on a newer one's changes.
    """
    attributes = element.attributes
    notified = set(change.changed.intersection(attributes))
    for key, value in change.state.items():
        if key not in attributes:
            continue
        if type(key) is int:
            field_name = STATE_FIELDS.get(key)
            if field_name is None:
                continue
            if key == Attribute.QUALITY:
                value = Quality(value)
            elif field_name.endswith("_time") and not isinstance(value, TimePoint):
                continue
            before = getattr(element, field_name)
            setattr(element, field_name, value)
        else:
            before = element.custom_values.get(key)
            element.custom_values[key] = value
        if before != value or type(before) is not type(value):
            notified.add(key)
    result = frozenset(notified)
    element.notify(result)
    return result
