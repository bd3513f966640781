"""The identifier tables of the Xentara WebSocket API (spec sections 3, 4.7, 4.8 and 8)."""

from __future__ import annotations

import uuid
from enum import IntEnum
from uuid import UUID as _Uuid  # `Attribute.UUID` hides the class name inside the enum


class PacketType(IntEnum):
    REQUEST = 0
    SUCCESS = 1
    ERROR = 2
    EVENT = 8


class EventType(IntEnum):
    DATA_CHANGE = 0


class Opcode(IntEnum):
    SERVER_INFORMATION = 0
    BROWSE = 1
    META_DATA = 2
    LOOKUP = 3
    READ = 4
    WRITE = 5
    SUBSCRIBE = 6
    UNSUBSCRIBE = 7
    GET_STAGE = 8
    RESUME = 9
    SUSPEND = 10
    SHUTDOWN = 11
    CREATE_SUB_SESSION = 12
    CLOSE_SUB_SESSION = 13
    CLIENT_HELLO = 14
    CHECK_ACCESS = 15
    # xentara-ws extensions (xentara-ws-extensions.md §3)
    PING = 256
    LIST_SUB_SESSIONS = 257
    DESCRIBE_SUB_SESSIONS = 258
    ALTER_SUB_SESSION = 259
    DELETE_SUB_SESSION = 260


class ElementCategory(IntEnum):
    ROOT_ELEMENT = 0
    ELEMENT_GROUP = 1
    DATA_POINT = 2
    TIMER = 3
    EXECUTION_TRACK = 4
    EXECUTION_PIPELINE = 5
    DEVICE = 6
    SUB_DEVICE = 7
    DEVICE_GROUP = 8
    DATA_POINT_GROUP = 9
    TRANSACTION = 10
    MICROSERVICE = 11
    AI = 12
    DATA_STORAGE = 13
    EXTERNAL_INTERFACE = 14
    SPECIAL_PURPOSE = 15

    @property
    def text(self) -> str:
        """The lower-case category name a real Xentara reads for attribute 4 (spec 10.17)."""
        return _CATEGORY_TEXT[self]


_CATEGORY_TEXT = {
    ElementCategory.ROOT_ELEMENT: "root element",
    ElementCategory.ELEMENT_GROUP: "element group",
    ElementCategory.DATA_POINT: "data point",
    ElementCategory.TIMER: "timer",
    ElementCategory.EXECUTION_TRACK: "execution track",
    ElementCategory.EXECUTION_PIPELINE: "execution pipeline",
    ElementCategory.DEVICE: "device",
    ElementCategory.SUB_DEVICE: "sub device",
    ElementCategory.DEVICE_GROUP: "device group",
    ElementCategory.DATA_POINT_GROUP: "data point group",
    ElementCategory.TRANSACTION: "transaction",
    ElementCategory.MICROSERVICE: "microservice",
    ElementCategory.AI: "ai",
    ElementCategory.DATA_STORAGE: "data storage",
    ElementCategory.EXTERNAL_INTERFACE: "external interface",
    ElementCategory.SPECIAL_PURPOSE: "special purpose",
}


class ServerInformation(IntEnum):
    VERSION = 0
    USER_NAME = 1
    MODEL_FILE_PATH = 2


class MetaData(IntEnum):
    PRIMARY_KEY = 0
    ELEMENT_CATEGORY = 1
    ATTRIBUTE_LIST = 2
    HAS_CHILDREN = 3


class Attribute(IntEnum):
    """The standard attributes addressable by integer id (spec 8.6)."""

    PRIMARY_KEY = 0
    NAME = 1
    UUID = 2
    TYPE = 3
    CATEGORY = 4
    SOURCE_TIME = 5
    UPDATE_TIME = 6
    CHANGE_TIME = 7
    WRITE_TIME = 8
    QUALITY = 9
    DEVICE_STATE = 10
    VALUE = 11
    ERROR = 12
    WRITE_ERROR = 13

    @property
    def uuid(self) -> _Uuid:
        return ATTRIBUTE_UUIDS[self]

    @property
    def attribute_name(self) -> str:
        """The attribute's name as meta_data reports it (camelCase, as Xentara names them)."""
        return _ATTRIBUTE_NAMES[self]

    @classmethod
    def from_uuid(cls, value: _Uuid) -> Attribute | None:
        return _ATTRIBUTE_BY_UUID.get(value)


ATTRIBUTE_UUIDS: dict[Attribute, uuid.UUID] = {
    Attribute.PRIMARY_KEY: uuid.UUID("ed22790e-261b-4a23-bfcc-6175a5571b33"),
    Attribute.NAME: uuid.UUID("0f974e57-cb9a-4d46-8811-efe3d619ecb9"),
    Attribute.UUID: uuid.UUID("b610a3e8-eff1-4a1a-b099-1939586b7aff"),
    Attribute.TYPE: uuid.UUID("e1d217de-cf51-4852-8b90-d691a00871dc"),
    Attribute.CATEGORY: uuid.UUID("cc9219e1-74b5-4be4-86c7-0fff12eb5324"),
    Attribute.SOURCE_TIME: uuid.UUID("5f67b0fb-d000-4b7c-92e4-78a36cb05b9d"),
    Attribute.UPDATE_TIME: uuid.UUID("91eed150-f62c-424b-ba59-9269b02e234c"),
    Attribute.CHANGE_TIME: uuid.UUID("54f09787-dcbe-4fbf-9a02-524e469eea47"),
    Attribute.WRITE_TIME: uuid.UUID("0a62de23-0564-4b91-8225-569dfa1ac04f"),
    Attribute.QUALITY: uuid.UUID("d3c4b709-bccf-4665-9621-abfb5c6addce"),
    Attribute.DEVICE_STATE: uuid.UUID("d0da9c4b-3240-404d-9f40-e52361b870e6"),
    Attribute.VALUE: uuid.UUID("4aa0e4e0-521e-4599-a985-e454baa59f89"),
    Attribute.ERROR: uuid.UUID("85a28731-2553-4886-8cd1-8b9d9980fa04"),
    Attribute.WRITE_ERROR: uuid.UUID("70435d1d-224f-4c25-a1ac-5191d7514252"),
}
_ATTRIBUTE_BY_UUID = {value: key for key, value in ATTRIBUTE_UUIDS.items()}
_ATTRIBUTE_NAMES = {
    Attribute.PRIMARY_KEY: "key",
    Attribute.NAME: "name",
    Attribute.UUID: "UUID",
    Attribute.TYPE: "type",
    Attribute.CATEGORY: "category",
    Attribute.SOURCE_TIME: "sourceTime",
    Attribute.UPDATE_TIME: "updateTime",
    Attribute.CHANGE_TIME: "changeTime",
    Attribute.WRITE_TIME: "writeTime",
    Attribute.QUALITY: "quality",
    Attribute.DEVICE_STATE: "deviceState",
    Attribute.VALUE: "value",
    Attribute.ERROR: "error",
    Attribute.WRITE_ERROR: "writeError",
}


class Quality(IntEnum):
    GOOD = 0
    ACCEPTABLE = 1
    UNRELIABLE = 2
    BAD = 3


class Stage(IntEnum):
    START_UP = 0
    PRE_OPERATIONAL = 1
    OPERATIONAL = 2
    POST_OPERATIONAL = 3
    SHUTDOWN = 4
    SUSPENDED = 5


class Access(IntEnum):
    READ_ONLY = 0
    WRITE_ONLY = 1
    READ_WRITE = 2

    @property
    def readable(self) -> bool:
        return self is not Access.WRITE_ONLY

    @property
    def writable(self) -> bool:
        return self is not Access.READ_ONLY


class DataType(IntEnum):
    BOOLEAN = 0
    SIGNED_INTEGER_8 = 1
    SIGNED_INTEGER_16 = 2
    SIGNED_INTEGER_32 = 3
    SIGNED_INTEGER_64 = 4
    UNSIGNED_INTEGER_8 = 5
    UNSIGNED_INTEGER_16 = 6
    UNSIGNED_INTEGER_32 = 7
    UNSIGNED_INTEGER_64 = 8
    FLOAT_32 = 9
    FLOAT_64 = 10
    STRING = 11
    WSTRING = 12
    U8STRING = 13
    U16STRING = 14
    U32STRING = 15
    TIME_POINT = 16
    UUID = 17
    QUALITY = 18
    ELEMENT_CATEGORY = 19
    ERROR_CODE = 20
    CUSTOM = 21
    NONE = 22

    @property
    def integer_range(self) -> tuple[int, int] | None:
        """Inclusive (min, max) for integer types, None for every other type."""
        return _INTEGER_RANGES.get(self)

    @property
    def is_string(self) -> bool:
        return DataType.STRING <= self <= DataType.U32STRING

    @property
    def is_float(self) -> bool:
        return self in (DataType.FLOAT_32, DataType.FLOAT_64)


_INTEGER_RANGES = {
    DataType.SIGNED_INTEGER_8: (-(2**7), 2**7 - 1),
    DataType.SIGNED_INTEGER_16: (-(2**15), 2**15 - 1),
    DataType.SIGNED_INTEGER_32: (-(2**31), 2**31 - 1),
    DataType.SIGNED_INTEGER_64: (-(2**63), 2**63 - 1),
    DataType.UNSIGNED_INTEGER_8: (0, 2**8 - 1),
    DataType.UNSIGNED_INTEGER_16: (0, 2**16 - 1),
    DataType.UNSIGNED_INTEGER_32: (0, 2**32 - 1),
    DataType.UNSIGNED_INTEGER_64: (0, 2**64 - 1),
    DataType.QUALITY: (0, 3),
    DataType.ELEMENT_CATEGORY: (0, 15),
    DataType.ERROR_CODE: (-(2**63), 2**63 - 1),
}

NIL_UUID = uuid.UUID(int=0)
PROTOCOL_VERSION = 1
