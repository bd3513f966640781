"""Who is the client: HTTP Basic/Bearer on the WebSocket upgrade, and token/certificate/password for sub-sessions."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .certificates import CertificateAuthenticator, CertificateError
from .config import EVERYONE, XentaraConfiguration
from .passwords import dummy_verify, verify_password
from .tokens import TokenError, TokenValidator

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated client identity; `roles` always includes `Everyone`."""

    name: str
    roles: frozenset[str]
    kind: str  # "user" | "token" | "certificate" | "anonymous"


class AuthenticationFailed(Exception):
    """Refused credentials. `status` 401/403/429; `www_authenticate` are the header values to send, one per line."""

    def __init__(
        self, status: int, www_authenticate: tuple[str, ...], reason: str, retry_after: int | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.www_authenticate = www_authenticate
        self.reason = reason
        """For the server log only: clients must not learn which part of the credentials was wrong."""
        self.retry_after = retry_after


class _FailureLimiter:
    """Per-client-address back-off after repeated failed logins (sliding window, injectable clock)."""

    def __init__(self, clock: Callable[[], float], max_failures: int, window: float, lockout: float) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def locked_for(self, address: str) -> float:
        """Seconds left in this address's back-off, 0 if none."""
        until = self._locked_until.get(address)
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            del self._locked_until[address]
            return 0.0
        return left

    def failed(self, address: str) -> None:
        now = self.clock()
        times = self._failures.setdefault(address, deque())
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.max_failures:
            self._locked_until[address] = now + self.lockout
            times.clear()
            logger.warning(
                "client %s: %d failed logins within %ss, refused for %ss",
                address,
                self.max_failures,
                self.window,
                self.lockout,
            )
        if len(self._failures) > 10000:
            # Bound memory under a spray of addresses: drop those with no recent failure.
            for key in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.window]:
                del self._failures[key]

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)


class Authenticator:
    """Authenticates connections and sub-sessions against one loaded configuration."""

    def __init__(
        self,
        config: XentaraConfiguration,
        clock: Callable[[], float] = time.time,
        *,
        max_failures: int = 5,
        failure_window: float = 60.0,
        lockout: float = 60.0,
        allow_anonymous: bool = False,
    ) -> None:
        """`allow_anonymous` is the explicit `--insecure-dev` switch (reference §1.4): a request without
        credentials then gets an `anonymous` principal with only `Everyone`. Never implied by missing files."""
        self.config = config
        self.clock = clock
        self.allow_anonymous = allow_anonymous
        if allow_anonymous:
            logger.warning("INSECURE: clients without credentials are let in as 'anonymous' (Everyone)")
        auth = config.http_authentication
        self.realm = auth.realm
        self.schemes = auth.schemes
        self.scope = config.effective_scope
        self.tokens = TokenValidator(config.oauth2, self.scope, config.known_roles, clock)
        self.certificates = CertificateAuthenticator(config.client_certs, config.known_roles, clock)
        self._limiter = _FailureLimiter(clock, max_failures, failure_window, lockout)
        if not config.users and not self.tokens.enabled and not allow_anonymous:
            logger.warning("no users and no OAuth 2.0 issuers configured: no client can authenticate")

    # -- challenges --------------------------------------------------------------------------------

    def challenges(self, bearer_error: str | None = None) -> tuple[str, ...]:
        """One WWW-Authenticate value per enabled scheme, in configured order (reference §2.1)."""
        realm = self.realm.replace("\\", "\\\\").replace('"', '\\"')
        out = []
        for scheme in self.schemes:
            if scheme == "Bearer":
                value = f'Bearer realm="{realm}"'
                if self.scope:
                    value += f', scope="{" ".join(self.scope)}"'
                if bearer_error:
                    value += f', error="{bearer_error}"'
                out.append(value)
            elif scheme == "Basic":
                out.append(f'Basic realm="{realm}", charset="UTF-8"')
        return tuple(out)

    def _fail(
        self,
        client_address: str,
        reason: str,
        *,
        counted: bool = True,
        bearer_error: str | None = None,
        status: int = 401,
    ) -> AuthenticationFailed:
        if counted:
            self._limiter.failed(client_address)
        logger.info("authentication failed for %s: %s", client_address, reason)
        headers = self.challenges(bearer_error)
        if status == 403:
            # insufficient_scope: only the Bearer challenge says what is missing (RFC 6750 §3.1).
            headers = tuple(c for c in headers if c.startswith("Bearer"))
        return AuthenticationFailed(status, headers, reason)

    # -- HTTP upgrade ----------------------------------------------------------------------------

    def authenticate_http(self, authorization_header: str | None, client_address: str) -> Principal:
        """The principal for a WebSocket upgrade request's `Authorization` header, or AuthenticationFailed.

        The caller still has to check `websocket.connect` (AccessControl.can_connect) and answer 403.
        """
        locked = self._limiter.locked_for(client_address)
        if locked:
            # Even correct credentials are refused, so guessing cannot continue during the back-off.
            raise AuthenticationFailed(
                429, (), f"too many failed logins from {client_address}", retry_after=max(1, int(locked + 0.999))
            )
        if not authorization_header or not authorization_header.strip():
            if self.allow_anonymous:
                return Principal("anonymous", frozenset({EVERYONE}), "anonymous")
            raise self._fail(client_address, "no credentials", counted=False)
        if not authorization_header.isascii():
            # Not a credential any scheme can carry (and not comparable in constant time): a failed login.
            raise self._fail(client_address, "malformed Authorization header")
        scheme, _, credentials = authorization_header.strip().partition(" ")
        scheme = next((s for s in self.schemes if hmac.compare_digest(s.lower(), scheme.lower())), "")
        credentials = credentials.strip()
        if scheme == "Basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise self._fail(client_address, "malformed Basic credentials") from None
            user, sep, password = decoded.partition(":")
            if not sep:
                raise self._fail(client_address, "malformed Basic credentials")
            principal = self._check_password(user, password)
            if principal is None:
                raise self._fail(client_address, f"bad user name or password (user {user!r})")
        elif scheme == "Bearer":
            try:
                principal = self._check_token(credentials)
            except TokenError as exc:
                if exc.insufficient_scope:
                    raise self._fail(
                        client_address, exc.reason, status=403, counted=False, bearer_error="insufficient_scope"
                    ) from None
                raise self._fail(client_address, f"token refused: {exc.reason}", bearer_error="invalid_token") from None
        else:
            # A scheme that is not enabled counts as no credentials (reference §2.1).
            raise self._fail(client_address, "authentication scheme not enabled", counted=False)
        self._limiter.succeeded(client_address)
        logger.info("client %s authenticated as %s %r", client_address, principal.kind, principal.name)
        return principal

    # -- shared checks -------------------------------------------------------------------------------

    def _check_password(self, user: str, password: str) -> Principal | None:
        """Same work whatever fails, so timing does not reveal whether the user exists."""
        entry = self.config.users.get(user)
        hashed = self.config.passwords.get(entry.uuid) if entry is not None else None
        if entry is None or hashed is None:
            dummy_verify(password)
            return None
        if not verify_password(password, hashed):
            return None
        return Principal(entry.name, frozenset({EVERYONE, *entry.roles}), "user")

    def _check_token(self, token: str) -> Principal:
        if not self.tokens.enabled:
            raise TokenError("no OAuth 2.0 issuers configured")
        result = self.tokens.validate(token)
        return Principal(result.subject, result.roles, "token")

    # -- sub-sessions (create_sub_session, tags 121/122/123) -----------------------------------

    def authenticate_token(self, token: str) -> Principal:
        try:
            return self._check_token(token)
        except TokenError as exc:
            raise AuthenticationFailed(401, (), f"token refused: {exc.reason}") from None

    def authenticate_certificate(self, der_bytes: bytes) -> Principal:
        try:
            match = self.certificates.authenticate(der_bytes)
        except CertificateError as exc:
            raise AuthenticationFailed(401, (), f"certificate refused: {exc}") from None
        return Principal(match.name, match.roles, "certificate")

    def authenticate_password(self, user: str, password: str, client_address: str | None = None) -> Principal:
        """Tag 123. With `client_address` the same back-off as for HTTP applies."""
        if client_address is not None:
            locked = self._limiter.locked_for(client_address)
            if locked:
                raise AuthenticationFailed(
                    429, (), f"too many failed logins from {client_address}", retry_after=max(1, int(locked + 0.999))
                )
        principal = self._check_password(user, password)
        if principal is None:
            if client_address is not None:
                self._limiter.failed(client_address)
            raise AuthenticationFailed(401, (), f"bad user name or password (user {user!r})")
        if client_address is not None:
            self._limiter.succeeded(client_address)
        return principal
