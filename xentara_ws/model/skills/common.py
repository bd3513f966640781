"""What the element types with behaviour share: access shorthands, attribute set helpers, ConfigError."""

from __future__ import annotations

from ...protocol.identifiers import Access, Attribute, DataType
from ..element import IDENTITY_ATTRIBUTES, AttributeSpec, standard_attribute

R = Access.READ_ONLY
W = Access.WRITE_ONLY
RW = Access.READ_WRITE

VALUE_KEY = int(Attribute.VALUE)
WRITE_TIME_KEY = int(Attribute.WRITE_TIME)
WRITE_ERROR_KEY = int(Attribute.WRITE_ERROR)


def attrs(*specs: AttributeSpec) -> tuple[AttributeSpec, ...]:
    return IDENTITY_ATTRIBUTES + specs


def std(attribute: Attribute, access: Access = R, data_type: DataType | None = None) -> AttributeSpec:
    return standard_attribute(attribute, access, data_type)


class ConfigError(ValueError):
    """A problem with one element's configuration; the loader adds file and JSON path."""

    def __init__(self, message: str, member: str | None = None) -> None:
        super().__init__(message)
        self.member = member
