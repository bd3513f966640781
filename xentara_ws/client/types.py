"""Typed results of the client library: elements, meta data, attribute values, time stamps, errors."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..protocol.alternatives import alternative_of
from ..protocol.codec import TimePoint
from ..protocol.errors import ErrorCode
from ..protocol.identifiers import Access, Attribute, DataType, ElementCategory, Quality

# An attribute is addressed by its standard integer id or by its UUID (spec 8.6).
AttributeKey = Attribute | uuid.UUID

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME_ATTRIBUTES = frozenset(
    (Attribute.SOURCE_TIME, Attribute.UPDATE_TIME, Attribute.CHANGE_TIME, Attribute.WRITE_TIME)
)


class XentaraError(Exception):
    """An error reported by the server: an error packet (raised) or a 122 read failure (returned)."""

    def __init__(self, code: ErrorCode | int, message: str | None = None) -> None:
        try:
            code = ErrorCode(code)
        except ValueError:
            pass  # an unknown code is kept as a plain int rather than dropped
        self.code: ErrorCode | int = code
        if message is None:
            message = code.default_message if isinstance(code, ErrorCode) else "unknown xentara websocket error"
        self.message: str = message
        super().__init__(f"{int(code)}: {message}")

    def __repr__(self) -> str:
        return f"XentaraError({self.code!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, XentaraError) and (self.code, self.message) == (other.code, other.message)

    def __hash__(self) -> int:
        return hash((int(self.code), self.message))

    @classmethod
    def from_map(cls, content: Any) -> XentaraError:
        if isinstance(content, Mapping) and type(content.get(0)) is int:
            message = content.get(1)
            return cls(content[0], message if isinstance(message, str) else None)
        return cls(ErrorCode.INTERNAL_ERROR, f"malformed error object from the server: {content!r}")


class ConnectionFailed(Exception):
    """The WebSocket could not be opened or was lost; `kind` says why, for friendly messages.

    kinds: "refused", "tls", "unauthorized" (401), "forbidden" (403), "not_found" (404), "http",
    "timeout", "closed", "invalid_url", "os".
    """

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


class Timestamp(datetime):
    """A timezone-aware UTC datetime that keeps the exact nanoseconds of the Xentara time stamp."""

    ns: int

    @classmethod
    def from_ns(cls, ns: int) -> Timestamp:
        seconds, rest = divmod(ns, 1_000_000_000)
        moment = _EPOCH + timedelta(seconds=seconds, microseconds=rest // 1000)
        stamp = cls(
            moment.year,
            moment.month,
            moment.day,
            moment.hour,
            moment.minute,
            moment.second,
            moment.microsecond,
            tzinfo=UTC,
        )
        stamp.ns = ns
        return stamp

    @classmethod
    def from_datetime(cls, moment: datetime) -> Timestamp:
        if moment.tzinfo is None:
            raise ValueError("time stamps must be timezone-aware")
        delta = moment - _EPOCH
        return cls.from_ns((delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000)

    def to_time_point(self) -> TimePoint:
        return TimePoint(self.ns)


@dataclass(frozen=True, slots=True)
class Element:
    """One browse entry (or a looked-up element): primary key, UUID and category."""

    primary_key: str
    uuid: uuid.UUID
    category: ElementCategory | int


@dataclass(frozen=True, slots=True)
class AttributeInfo:
    """One entry of an element's attribute list from meta_data."""

    name: str
    id: AttributeKey
    access: Access | int
    data_type: DataType | int


@dataclass(frozen=True, slots=True)
class MetaData:
    """The meta data of an element; fields not requested stay None."""

    primary_key: str | None = None
    category: ElementCategory | int | None = None
    attributes: tuple[AttributeInfo, ...] | None = None
    has_children: bool | None = None

    def attribute(self, key: str | int | uuid.UUID) -> AttributeInfo | None:
        """Find an attribute by name (case-insensitive), integer id or UUID."""
        for info in self.attributes or ():
            if isinstance(key, str) and info.name.lower() == key.lower():
                return info
            if not isinstance(key, str) and info.id == key:
                return info
        return None


@dataclass(frozen=True, slots=True)
class AccessRights:
    """check_access result for a sub-session."""

    read: bool
    write: bool


class Values(dict[AttributeKey, Any]):
    """Attribute values keyed as requested; a failed attribute holds an (unraised) XentaraError."""

    def _get(self, attribute: Attribute) -> Any:
        value = self.get(attribute, self.get(attribute.uuid))
        return value

    @property
    def value(self) -> Any:
        return self._get(Attribute.VALUE)

    @property
    def quality(self) -> Quality | None:
        return self._get(Attribute.QUALITY)  # type: ignore[no-any-return]

    @property
    def change_time(self) -> Timestamp | None:
        return self._get(Attribute.CHANGE_TIME)  # type: ignore[no-any-return]

    @property
    def update_time(self) -> Timestamp | None:
        return self._get(Attribute.UPDATE_TIME)  # type: ignore[no-any-return]

    @property
    def errors(self) -> dict[AttributeKey, XentaraError]:
        return {key: value for key, value in self.items() if isinstance(value, XentaraError)}


@dataclass(frozen=True, slots=True)
class Change:
    """One data-change event of a subscription: the element and its attribute values."""

    subscription_id: uuid.UUID
    element: uuid.UUID
    values: Values = field(default_factory=Values)
    dropped: int = 0
    """Changes of this element the server dropped before this one (a bound subscription's queue)."""


def attribute_key(raw: Any) -> AttributeKey:
    """Wire attribute id -> Attribute enum for integer ids, UUID otherwise."""
    if type(raw) is int:
        try:
            return Attribute(raw)
        except ValueError:
            return raw  # type: ignore[return-value]
    # A UUID stays a UUID: results are keyed by the id exactly as it was requested.
    return raw  # type: ignore[no-any-return]


def convert_value(key: AttributeKey, value: Any) -> Any:
    """Give well-known attributes their Python types: Quality, Timestamp, ErrorCode."""
    standard = key if isinstance(key, Attribute) else Attribute.from_uuid(key) if isinstance(key, uuid.UUID) else None
    if isinstance(value, TimePoint):
        return Timestamp.from_ns(value.ns)
    if standard is Attribute.QUALITY and type(value) is int:
        try:
            return Quality(value)
        except ValueError:
            return value
    if standard in (Attribute.ERROR, Attribute.WRITE_ERROR) and type(value) is int and value != 0:
        try:
            return ErrorCode(value)
        except ValueError:
            return value
    return value


def decode_values(raw: Any) -> Values:
    """Decode a read result or event value map of 121/122 alternatives."""
    values = Values()
    if not isinstance(raw, Mapping):
        return values
    for raw_key, tagged in raw.items():
        key = attribute_key(raw_key)
        index, content = alternative_of(tagged)
        if index == 0:
            values[key] = convert_value(key, content)
        elif index == 1:
            values[key] = XentaraError.from_map(content)
        else:
            # Untagged values are a server bug; keep them rather than lose data.
            values[key] = convert_value(key, tagged)
    return values


def category(raw: Any) -> ElementCategory | int:
    try:
        return ElementCategory(raw)
    except ValueError:
        return raw  # type: ignore[no-any-return]


def decode_meta_data(raw: Mapping[Any, Any]) -> MetaData:
    attributes: tuple[AttributeInfo, ...] | None = None
    if 2 in raw:
        infos = []
        for entry in raw[2]:
            access = entry.get(2)
            data_type = entry.get(3)
            try:
                access = Access(access)
            except ValueError:
                pass
            try:
                data_type = DataType(data_type)
            except ValueError:
                pass
            infos.append(AttributeInfo(entry.get(0), attribute_key(entry.get(1)), access, data_type))
        attributes = tuple(infos)
    return MetaData(
        primary_key=raw.get(0),
        category=category(raw[1]) if 1 in raw else None,
        attributes=attributes,
        has_children=raw.get(3),
    )
