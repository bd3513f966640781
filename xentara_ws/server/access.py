"""How command handlers ask for permission, whatever decides it (security config or open demo)."""

from __future__ import annotations

from typing import Any, Protocol

from ..model.element import Element


class AccessPolicy(Protocol):
    def can_read(self, principal: Any, element: Element) -> bool: ...

    def can_write(self, principal: Any, element: Element) -> bool: ...

    def allowed(self, principal: Any, entitlement: str, element: Element | None) -> bool: ...


class SubSessionAuthenticator(Protocol):
    """Logins of create_sub_session, awaited (CONTRACTS §3); `peer` is the client's host address."""

    async def authenticate_token(self, token: str, peer: str) -> Any: ...

    async def authenticate_certificate(self, der: bytes, peer: str) -> Any: ...

    async def authenticate_password(self, user: str, password: str, peer: str) -> Any: ...


class OpenAccess:
    """Everything is allowed: used when the server runs without a security configuration."""

    def can_read(self, principal: Any, element: Element) -> bool:
        return True

    def can_write(self, principal: Any, element: Element) -> bool:
        return True

    def allowed(self, principal: Any, entitlement: str, element: Element | None) -> bool:
        return True
