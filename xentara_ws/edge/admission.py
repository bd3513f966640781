"""Upgrade-time admission of `/api/ws`: who the client is, or why it is refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .http import HttpRequest


@dataclass
class UpgradeRefused(Exception):
    """Admission said no: answer the upgrade request with this status and these headers."""

    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)


class Gatekeeper(Protocol):
    """Decides at the upgrade who the client is: the principal, an awaitable of it, or UpgradeRefused."""

    def admit(self, request: HttpRequest) -> Any: ...


class OpenGate:
    """No authentication configured: everyone is admitted as an anonymous principal."""

    def admit(self, request: HttpRequest) -> Any:
        return None
