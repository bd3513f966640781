"""The last will (extensions §6, §9.9): a write done on a sub-session's behalf when it is lost."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..protocol.errors import ErrorCode, ProtocolError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LastWill:
    element: uuid.UUID
    attribute: int | uuid.UUID
    value: Any
    delay_s: int = 0

    def to_map(self) -> dict[int, Any]:
        return {0: self.element, 1: self.attribute, 2: self.value, 3: self.delay_s}


def check_will(state: Any, will: LastWill, principals: Iterable[Any]) -> tuple[Any, Any, Any]:
    """Check the will like a write by `principals`; return (element, attribute spec, converted value).

    Raises the write's errors: -32100 unknown element, -32101 no such attribute, -32103 read only,
    -32102 not permitted, -32106 and friends for a value that does not convert.
    """
    from ..model.values import convert

    # Looked up here, not through the server's command helpers: sessions sit below the server.
    element = state.model.find(will.element)
    if element is None:
        raise ProtocolError(ErrorCode.UNKNOWN_ELEMENT, f"unknown element {will.element}")
    spec = element.attribute(will.attribute)
    if not spec.access.writable:
        raise ProtocolError(ErrorCode.READ_ONLY, f"attribute {spec.name} of {element.primary_key} is read only")
    if not all(state.access.can_write(principal, element) for principal in principals):
        raise ProtocolError(ErrorCode.ACCESS_DENIED, f"writing {element.primary_key} is not permitted")
    return element, spec, convert(spec.data_type, will.value)


def fire_will(state: Any, session_id: uuid.UUID, will: LastWill, principal: Any) -> bool:
    """Write the will with the owner's rights, checked again now; a refusal is logged, not retried."""
    from ..protocol.identifiers import Stage

    try:
        element, spec, value = check_will(state, will, (principal,))
        if state.stage is not Stage.OPERATIONAL:
            raise ProtocolError(ErrorCode.WRITE_ERROR, f"the server is {state.stage.name.lower()}")
        element.write(spec, value, state.model.clock())
    except ProtocolError as error:
        logger.warning("last will of sub-session %s refused: %s", session_id, error.message)
        return False
    logger.info("last will of sub-session %s written to %s", session_id, element.primary_key)
    return True
