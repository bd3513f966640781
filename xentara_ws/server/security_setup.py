"""Wiring a configuration folder's security files into a ServePlan: TLS, admission, ACLs, sub-sessions."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ..edge import HttpRequest, UpgradeRefused
from ..security import (
    AccessControl,
    AuthenticationFailed,
    Authenticator,
    ConfigurationError,
    Principal,
    load_configuration,
    server_ssl_context,
)
from ..security.login import LoginService, VerificationPool
from .options import ServeOptions
from .serve_plan import ServeError, ServePlan, schema_dir

logger = logging.getLogger(__name__)

CONNECT_ENTITLEMENT = "websocket.connect"
_CACHE_SECONDS = 60.0
_CACHE_SIZE = 1024


class SecurityGate:
    """Upgrade-time admission: authenticate the Authorization header, then require websocket.connect.

    Verification runs in the login service's worker pool (never on the event loop). Verified headers
    are remembered briefly (by their SHA-256) so that a client opening many connections does not pay a
    deliberately slow password hash each time.
    """

    def __init__(self, logins: LoginService, access: AccessControl, clock: Any = time.monotonic) -> None:
        self.logins = logins
        self.access = access
        self.clock = clock
        self._verified: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()

    async def admit(self, request: HttpRequest) -> Principal:
        # Authorization is a singleton field: repeated ones are combined (RFC 9110 5.3), which makes
        # malformed credentials that are refused and counted like any other failed login.
        authorization = ", ".join(request.header_values("authorization")) or None
        peer = request.peer_host
        principal = self._remembered(authorization)
        if principal is None:
            try:
                principal = await self.logins.authenticate_http(authorization, peer)
            except AuthenticationFailed as failure:
                logger.info("refused upgrade from %s: %s", peer, failure.reason)
                headers = [("WWW-Authenticate", value) for value in failure.www_authenticate]
                if failure.retry_after:
                    headers.append(("Retry-After", str(failure.retry_after)))
                raise UpgradeRefused(failure.status, _STATUS_TEXT.get(failure.status, "Refused"), headers) from None
            self._remember(authorization, principal)
        if not self.access.can_connect(principal):
            logger.info("refused upgrade from %s: %s lacks %s", peer, principal.name, CONNECT_ENTITLEMENT)
            raise UpgradeRefused(403, f"Forbidden: {CONNECT_ENTITLEMENT} is not granted")
        return principal

    def _remembered(self, authorization: str | None) -> Principal | None:
        if not authorization or not authorization.lstrip().lower().startswith("basic "):
            return None  # tokens expire; they are checked every time
        key = hashlib.sha256(authorization.encode()).digest()
        hit = self._verified.get(key)
        if hit is None or hit[0] < self.clock():
            return None
        return hit[1]

    def _remember(self, authorization: str | None, principal: Principal) -> None:
        if not authorization or not authorization.lstrip().lower().startswith("basic "):
            return
        key = hashlib.sha256(authorization.encode()).digest()
        self._verified[key] = (self.clock() + _CACHE_SECONDS, principal)
        self._verified.move_to_end(key)
        while len(self._verified) > _CACHE_SIZE:
            self._verified.popitem(last=False)


_STATUS_TEXT = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests", 503: "Service Unavailable"}


def login_pool(options: ServeOptions) -> VerificationPool:
    """The worker pool of password and token checks, sized by --login-workers / --max-pending-logins."""
    pool = VerificationPool()
    workers, pending = options.login_workers, options.max_pending_logins
    for option, value in (("login-workers", workers), ("max-pending-logins", pending)):
        if value is not None and value <= 0:
            raise ServeError(f"--{option} must be positive, not {value}")
    if workers:
        pool.workers = workers
    if pending:
        pool.max_pending = pending
        pool.max_pending_per_address = min(pool.max_pending_per_address, pending)
    return pool


def state_dir(options: ServeOptions) -> Path:
    if options.state_dir:
        return options.state_dir
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "xentara-ws"


def configure_security(plan: ServePlan, options: ServeOptions, previous: LoginService | None = None) -> None:
    """Fill in TLS, the gatekeeper, access control and sub-session logins; raise ServeError on bad files.

    `previous` (a reload) passes on its worker pool and failed-login accounting to the new generation."""
    from ..demo import DEMO_PASSWORD, DEMO_USER

    config = None
    if plan.config_dir is not None:
        try:
            config = load_configuration(plan.config_dir, schema_dir(options))
        except ConfigurationError as error:
            raise ServeError(f"the configuration cannot be served:\n{error}") from None
        for warning in config.warnings:
            logger.warning("%s", warning)
        authenticator = Authenticator(config, throttle=previous.authenticator.throttle if previous else None)
        authenticator.prepare()
        logins = LoginService(authenticator, previous.pool if previous else login_pool(options))
        access = AccessControl(config)
        plan.access = access
        plan.gatekeeper = SecurityGate(logins, access)
        plan.sub_session_authenticator = logins
    else:
        plan.notes.append("no security configuration (--model): every client may read and write everything")
    if not options.tls:
        plan.notes.append("WARNING: TLS is off (--no-tls): credentials and values travel in plain text (ws://)")
    else:
        try:
            plan.ssl_context, fingerprint, self_signed = server_ssl_context(config, state_dir(options))
        except (OSError, ValueError) as error:
            raise ServeError(f"TLS cannot be set up: {error}") from None
        kind = "self-signed certificate" if self_signed else "certificate"
        plan.notes.append(f"TLS {kind}, SHA-256 fingerprint {fingerprint}")
    if plan.demo:
        plan.notes.append(f"demo user: {DEMO_USER}  password: {DEMO_PASSWORD}")
