"""The options map of a sub-session (create_sub_session key 256, alter key 1; extensions §1.1, §9.7)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ..protocol.errors import ErrorCode, ProtocolError
from .entry import BANNED, HIDDEN, INACTIVE, NORMAL
from .health import HealthThresholds
from .lease import NEVER
from .will import LastWill

NAMES = {0: "permanent", 1: "keep_alive_s", 2: "expiry_s", 3: "description", 4: "health", 5: "last_will", 6: "status"}
MAX_KEEP_ALIVE_S = 65535
MAX_DESCRIPTION_BYTES = 256
MAX_WILL_DELAY_S = 86400
_HEALTH_NAMES = (
    "min_requests_per_minute",
    "max_requests_per_minute",
    "max_backlog_per_minute",
    "min_subscriptions",
    "max_subscriptions",
)


def _invalid(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_PARAMETER, message)


def _uint(value: Any, maximum: int, what: str) -> int:
    if type(value) is not int or not 0 <= value <= maximum:
        raise _invalid(f"{what} must be an unsigned integer from 0 to {maximum}")
    return value


def parse_options(value: Any, where: str, *, banned_allowed: bool = False) -> dict[str, Any]:
    """Validated options by name; absent keys are absent. `last_will` may be None (remove it)."""
    if not isinstance(value, Mapping):
        raise _invalid(f"{where} must be a map")
    options: dict[str, Any] = {}
    for key, item in value.items():
        name = NAMES.get(key) if type(key) is int else None
        if name is None:
            raise _invalid(f"{where}: unknown option {key!r}")
        what = f"{where} option {key} ({name})"
        if key == 0:
            if type(item) is not bool:
                raise _invalid(f"{what} must be a boolean")
            options[name] = item
        elif key == 1:
            options[name] = _uint(item, MAX_KEEP_ALIVE_S, what)
        elif key == 2:
            options[name] = _uint(item, NEVER, what)
        elif key == 3:
            if type(item) is not str or len(item.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
                raise _invalid(f"{what} must be text of at most {MAX_DESCRIPTION_BYTES} bytes of UTF-8")
            options[name] = item
        elif key == 4:
            options[name] = _health(item, what)
        elif key == 5:
            options[name] = None if item is None else _will(item, what)
        else:
            allowed = (NORMAL, HIDDEN, INACTIVE, BANNED) if banned_allowed else (NORMAL, HIDDEN, INACTIVE)
            if item not in allowed or type(item) is not str:
                raise _invalid(f"{what} must be one of {', '.join(repr(a) for a in allowed)}")
            options[name] = item
    return options


def _health(value: Any, what: str) -> HealthThresholds:
    if not isinstance(value, Mapping):
        raise _invalid(f"{what} must be a map")
    numbers = [0] * 5
    for key, item in value.items():
        if type(key) is not int or not 0 <= key <= 4:
            raise _invalid(f"{what}: unknown threshold {key!r}")
        numbers[key] = _uint(item, 2**32, f"{what} threshold {key} ({_HEALTH_NAMES[key]})")
    return HealthThresholds(*numbers)


def _will(value: Any, what: str) -> LastWill:
    if not isinstance(value, Mapping):
        raise _invalid(f"{what} must be a map or null")
    for key in value:
        if key not in (0, 1, 2, 3):
            raise _invalid(f"{what}: unknown key {key!r}")
    element = value.get(0)
    if type(element) is not uuid.UUID:
        raise _invalid(f"{what} key 0 (element) must be a UUID")
    attribute = value.get(1)
    if type(attribute) is not int and type(attribute) is not uuid.UUID:
        raise _invalid(f"{what} key 1 (attribute id) must be an integer attribute id or an attribute UUID")
    if 2 not in value:
        raise _invalid(f"{what} key 2 (value) is missing")
    delay = _uint(value.get(3, 0), MAX_WILL_DELAY_S, f"{what} key 3 (delay_s)")
    return LastWill(element, attribute, value[2], delay)
