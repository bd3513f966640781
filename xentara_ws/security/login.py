"""Logins off the event loop: password and token verification in a bounded worker pool, with the
failed-login accounting of `throttle` on the event loop around it.

Every login path uses one LoginService per server: the WebSocket upgrade (Basic/Bearer), sub-session
logins (create_sub_session tags 121/122/123) and later JSON createSession.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .authentication import AuthenticationFailed, Authenticator, Credentials, Principal, Refusal

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_LOGIN_WORKERS = min(4, os.cpu_count() or 1)
DEFAULT_MAX_PENDING_LOGINS = 64
DEFAULT_MAX_PENDING_LOGINS_PER_ADDRESS = 8
BUSY_RETRY_AFTER = 1


class LoginBusy(AuthenticationFailed):
    """Too many verifications waiting: refused at once (HTTP 503 + Retry-After, or -32102) rather than queued
    without bound. Nothing is counted against the client's failed logins."""

    def __init__(self, reason: str) -> None:
        super().__init__(503, (), reason, retry_after=BUSY_RETRY_AFTER)


class VerificationPool:
    """A few worker threads for slow, CPU-bound checks, with a global cap on verifications in progress or
    waiting (`max_pending`) and a cap per client address, so one client cannot keep everyone else's logins
    waiting. Beyond the caps a login is refused with LoginBusy instead of waiting."""

    def __init__(
        self,
        workers: int = DEFAULT_LOGIN_WORKERS,
        max_pending: int = DEFAULT_MAX_PENDING_LOGINS,
        max_pending_per_address: int = DEFAULT_MAX_PENDING_LOGINS_PER_ADDRESS,
    ) -> None:
        self.workers = workers
        self.max_pending = max_pending
        self.max_pending_per_address = max_pending_per_address
        self._executor: ThreadPoolExecutor | None = None
        self._pending = 0
        self._per_address: dict[str, int] = {}

    @property
    def pending(self) -> int:
        """Verifications running or waiting for a worker."""
        return self._pending

    async def run(self, address: str, work: Callable[..., T], *args: object) -> T:
        if self._pending >= self.max_pending:
            raise LoginBusy(f"{self._pending} logins are being verified (limit {self.max_pending}): retry in 1 s")
        mine = self._per_address.get(address, 0)
        if mine >= self.max_pending_per_address:
            raise LoginBusy(
                f"{mine} logins from {address} are being verified (limit {self.max_pending_per_address}): retry in 1 s"
            )
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="xentara-ws-login")
        self._pending += 1
        self._per_address[address] = mine + 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        finally:
            self._pending -= 1
            left = self._per_address[address] - 1
            if left:
                self._per_address[address] = left
            else:
                del self._per_address[address]

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


class LoginService:
    """The awaitable face of an Authenticator: implements the server's SubSessionAuthenticator and the
    upgrade's credential check. Raises AuthenticationFailed (401/403/429, or LoginBusy 503)."""

    def __init__(self, authenticator: Authenticator, pool: VerificationPool | None = None) -> None:
        self.authenticator = authenticator
        self.pool = pool if pool is not None else VerificationPool()

    async def authenticate_http(self, authorization: str | None, peer: str) -> Principal:
        authenticator = self.authenticator
        credentials = authenticator.http_credentials(authorization, peer)
        if isinstance(credentials, Principal):
            return credentials
        return await self._verify(credentials, peer)

    async def authenticate_password(self, user: str, password: str, peer: str) -> Principal:
        return await self._verify(Credentials("password", user, password), peer)

    async def authenticate_token(self, token: str, peer: str) -> Principal:
        return await self._verify(Credentials("token", "", token), peer)

    async def authenticate_certificate(self, der: bytes, peer: str) -> Principal:
        # Signature checks of a certificate chain are CPU work too; no password is guessed, so no accounting.
        return await self.pool.run(peer, self.authenticator.authenticate_certificate, der)

    async def _verify(self, credentials: Credentials, peer: str) -> Principal:
        authenticator = self.authenticator
        authenticator.check_throttle(peer, credentials.user)
        outcome: Principal | Refusal = await self.pool.run(peer, authenticator.verify, credentials)
        # The back-off may have started while this one waited; its outcome still counts.
        return authenticator.settle(peer, credentials, outcome)

    def close(self) -> None:
        self.pool.close()
