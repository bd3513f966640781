"""Who is the client: HTTP Basic/Bearer on the WebSocket upgrade, and token/certificate/password for sub-sessions."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from .certificates import CertificateAuthenticator, CertificateError
from .config import EVERYONE, XentaraConfiguration
from .passwords import dummy_hash, dummy_verify, typical_cost, verify_password
from .throttle import LoginThrottle
from .tokens import TokenError, TokenValidator

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated client identity; `roles` always includes `Everyone`."""

    name: str
    roles: frozenset[str]
    kind: str  # "user" | "token" | "certificate" | "anonymous"
    issuer: str = ""
    """The verified token's `iss` (token principals only): part of the identity `token:ISSUER#SUBJECT`."""


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


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a client presented, parsed but not yet verified. `user` keys failed-login accounting."""

    kind: str  # "password" | "token"
    user: str
    secret: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why verification said no (for the log) and how to answer it."""

    reason: str
    counted: bool = True
    status: int = 401
    bearer_error: str | None = None


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
        throttle: LoginThrottle | None = None,
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
        # A reload of the files hands over the running throttle: failed logins are not forgiven by it.
        self.throttle = (
            throttle
            if throttle is not None
            else LoginThrottle(clock, max_failures=max_failures, window=failure_window, lockout=lockout)
        )
        # An unknown user costs a hash with the parameters most configured hashes use (timing says nothing).
        self.dummy_cost = typical_cost(config.passwords.values())
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

    def fail(self, client_address: str, user: str, refusal: Refusal) -> AuthenticationFailed:
        """Account for a refused login (unless it does not count) and build the answer to send."""
        if refusal.counted:
            self.throttle.failed(client_address, user)
        logger.info("authentication failed for %s: %s", client_address, refusal.reason)
        headers = self.challenges(refusal.bearer_error)
        if refusal.status == 403:
            # insufficient_scope: only the Bearer challenge says what is missing (RFC 6750 §3.1).
            headers = tuple(c for c in headers if c.startswith("Bearer"))
        return AuthenticationFailed(refusal.status, headers, refusal.reason)

    def check_throttle(self, client_address: str, user: str) -> None:
        """Raise 429 while this (address, user) or this address as a whole is backing off."""
        retry_after = self.throttle.retry_after(client_address, user)
        if retry_after:
            # Even correct credentials are refused, so guessing cannot continue during the back-off.
            raise AuthenticationFailed(
                429, (), f"too many failed logins from {client_address} (user {user!r})", retry_after=retry_after
            )

    # -- HTTP upgrade ----------------------------------------------------------------------------

    def http_credentials(self, authorization_header: str | None, client_address: str) -> Credentials | Principal:
        """The credentials of an `Authorization` header (cheap, on the caller's thread), the anonymous
        principal, or AuthenticationFailed for missing, malformed or disabled credentials."""
        if not authorization_header or not authorization_header.strip():
            if self.allow_anonymous:
                return Principal("anonymous", frozenset({EVERYONE}), "anonymous")
            raise self.fail(client_address, "", Refusal("no credentials", counted=False))
        if not authorization_header.isascii():
            # Not a credential any scheme can carry (and not comparable in constant time): a failed login.
            raise self.fail(client_address, "", Refusal("malformed Authorization header"))
        scheme, _, credentials = authorization_header.strip().partition(" ")
        scheme = next((s for s in self.schemes if hmac.compare_digest(s.lower(), scheme.lower())), "")
        credentials = credentials.strip()
        if scheme == "Basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise self.fail(client_address, "", Refusal("malformed Basic credentials")) from None
            user, sep, password = decoded.partition(":")
            if not sep:
                raise self.fail(client_address, "", Refusal("malformed Basic credentials"))
            return Credentials("password", user, password)
        if scheme == "Bearer":
            return Credentials("token", "", credentials)
        # A scheme that is not enabled counts as no credentials (reference §2.1).
        raise self.fail(client_address, "", Refusal("authentication scheme not enabled", counted=False))

    def verify(self, credentials: Credentials) -> Principal | Refusal:
        """The slow part (password hash, token signature): thread-safe, no accounting, never raises."""
        if credentials.kind == "password":
            principal = self._check_password(credentials.user, credentials.secret)
            if principal is None:
                return Refusal(f"bad user name or password (user {credentials.user!r})")
            return principal
        try:
            return self._check_token(credentials.secret)
        except TokenError as exc:
            if exc.insufficient_scope:
                return Refusal(exc.reason, counted=False, status=403, bearer_error="insufficient_scope")
            return Refusal(f"token refused: {exc.reason}", bearer_error="invalid_token")

    def settle(self, client_address: str, credentials: Credentials, outcome: Principal | Refusal) -> Principal:
        """Account for a verification's outcome: the principal, or AuthenticationFailed."""
        if isinstance(outcome, Refusal):
            raise self.fail(client_address, credentials.user, outcome)
        self.throttle.succeeded(client_address, credentials.user)
        logger.info("client %s authenticated as %s %r", client_address, outcome.kind, outcome.name)
        return outcome

    def authenticate_http(self, authorization_header: str | None, client_address: str) -> Principal:
        """The principal for a WebSocket upgrade request's `Authorization` header, or AuthenticationFailed.

        Verifies on the calling thread: servers use LoginService, which verifies in its worker pool.
        The caller still has to check `websocket.connect` (AccessControl.can_connect) and answer 403.
        """
        credentials = self.http_credentials(authorization_header, client_address)
        if isinstance(credentials, Principal):
            return credentials
        self.check_throttle(client_address, credentials.user)
        return self.settle(client_address, credentials, self.verify(credentials))

    # -- shared checks -------------------------------------------------------------------------------

    def _check_password(self, user: str, password: str) -> Principal | None:
        """Same work whatever fails, so timing does not reveal whether the user exists."""
        entry = self.config.users.get(user)
        hashed = self.config.passwords.get(entry.uuid) if entry is not None else None
        if entry is None or hashed is None:
            dummy_verify(password, self.dummy_cost)
            return None
        if not verify_password(password, hashed):
            return None
        return Principal(entry.name, frozenset({EVERYONE, *entry.roles}), "user")

    def _check_token(self, token: str) -> Principal:
        if not self.tokens.enabled:
            raise TokenError("no OAuth 2.0 issuers configured")
        result = self.tokens.validate(token)
        return Principal(result.subject, result.roles, "token", result.issuer)

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
        """Tag 123, verified on the calling thread. With `client_address` the back-off applies."""
        credentials = Credentials("password", user, password)
        if client_address is None:
            outcome = self.verify(credentials)
            if isinstance(outcome, Refusal):
                raise AuthenticationFailed(401, (), outcome.reason)
            return outcome
        self.check_throttle(client_address, user)
        return self.settle(client_address, credentials, self.verify(credentials))

    def prepare(self) -> None:
        """Build the dummy hash now (it costs one hash), so the first unknown user is not told apart."""
        dummy_hash(self.dummy_cost)
