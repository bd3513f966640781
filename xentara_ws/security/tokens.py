"""OAuth 2.0 access-token (JWT) validation per oauth2.json issuers (reference §5)."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet, import_key

from .config import EVERYONE, Issuer, OAuth2Config

logger = logging.getLogger(__name__)

LEEWAY_SECONDS = 60  # reference §5.4 [PROPOSAL]
_ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")

# Which key types may verify which algorithm family; a header alg that does not fit is refused
# before any key is touched, so an RSA public key can never be used as an HMAC secret.
_ALG_KEY_TYPES: dict[str, str] = {
    **{a: "RSA" for a in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")},
    **{a: "EC" for a in ("ES256", "ES256K", "ES384", "ES512")},
    "EdDSA": "OKP",
    **{a: "oct" for a in ("HS256", "HS384", "HS512")},
}


class TokenError(Exception):
    """The token is refused; `insufficient_scope` marks the 403 case (RFC 6750 §3.1)."""

    def __init__(self, reason: str, insufficient_scope: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.insufficient_scope = insufficient_scope


@dataclass(frozen=True)
class TokenResult:
    issuer: str
    subject: str
    """`sub`, else `client_id`, else the issuer: the name the principal is shown under."""
    roles: frozenset[str]
    claims: Mapping[str, Any]


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _import_pem(data: bytes) -> Key:
    """A PEM public key with its JWK type taken from the key itself, not guessed."""
    public = serialization.load_pem_public_key(data)
    if isinstance(public, rsa.RSAPublicKey):
        return import_key(data, "RSA")
    if isinstance(public, ec.EllipticCurvePublicKey):
        return import_key(data, "EC")
    if isinstance(public, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        return import_key(data, "OKP")
    raise ValueError(f"unsupported public key type {type(public).__name__}")


def _load_keys(issuer: Issuer) -> KeySet:
    keys = []
    if issuer.jwks_path is not None:
        data = json.loads(issuer.jwks_path.read_text(encoding="utf-8"))
        keys.extend(KeySet.import_key_set(data).keys)
    if issuer.public_key_path is not None:
        keys.append(_import_pem(issuer.public_key_path.read_bytes()))
    for key in keys:
        if key.is_private:
            # A private key file would work, but it should not sit on the verifying host.
            logger.warning("issuer %r: key file holds a private key; only the public part is needed", issuer.iss)
    return KeySet(keys)


class TokenValidator:
    """Validates JWT access tokens against the configured issuers with an injectable clock."""

    def __init__(
        self,
        oauth2: OAuth2Config,
        required_scope: tuple[str, ...] = (),
        known_roles: frozenset[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.required_scope = required_scope
        self.known_roles = known_roles
        self.clock = clock
        self._issuers: dict[str, tuple[Issuer, KeySet]] = {}
        for issuer in oauth2.issuers:
            try:
                self._issuers[issuer.iss] = (issuer, _load_keys(issuer))
            except (OSError, ValueError, JoseError) as exc:
                logger.error("issuer %r: cannot load its verification key: %s; tokens refused", issuer.iss, exc)

    @property
    def enabled(self) -> bool:
        return bool(self._issuers)

    def validate(self, token: str) -> TokenResult:
        """The checked token's identity and roles, or TokenError with a reason for the log."""
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("not a signed compact JWT")
        try:
            header = json.loads(_b64decode(parts[0]))
            unverified = json.loads(_b64decode(parts[1]))
        except (ValueError, UnicodeDecodeError):
            raise TokenError("malformed JWT") from None
        if not isinstance(header, dict) or not isinstance(unverified, dict):
            raise TokenError("malformed JWT")
        iss = unverified.get("iss")
        entry = self._issuers.get(iss) if isinstance(iss, str) else None
        if entry is None:
            raise TokenError(f"unknown issuer {iss!r}")
        issuer, keys = entry
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in issuer.algorithms or alg not in _ALG_KEY_TYPES:
            raise TokenError(f"algorithm {alg!r} not allowed for issuer {issuer.iss!r}")
        kid = header.get("kid")
        candidates = [
            k
            for k in keys.keys
            if k.key_type == _ALG_KEY_TYPES[alg]
            and (kid is None or k.kid in (None, kid))  # PEM keys carry no kid
            and k.get("alg") in (None, alg)
            and k.get("use") in (None, "sig")
        ]
        if not candidates:
            raise TokenError(f"no key of issuer {issuer.iss!r} fits alg {alg} / kid {kid!r}")
        claims: dict[str, Any] | None = None
        for key in candidates:
            try:
                obj = jws.deserialize_compact(token, key, algorithms=[alg])
            except (JoseError, ValueError):
                continue
            claims = json.loads(obj.payload)
            break
        if claims is None:
            raise TokenError("bad signature")
        self._check_type(header, issuer)
        self._check_claims(claims, issuer)
        return TokenResult(
            issuer=issuer.iss,
            subject=str(claims.get("sub") or claims.get("client_id") or issuer.iss),
            roles=self._roles(claims, issuer),
            claims=claims,
        )

    @staticmethod
    def _check_type(header: Mapping[str, Any], issuer: Issuer) -> None:
        typ = header.get("typ")
        nc = issuer.non_conformance
        if typ is None:
            if not nc.allow_missing_typ:
                raise TokenError("token has no typ header")
            return
        if not isinstance(typ, str):
            raise TokenError("bad typ header")
        allowed = _ACCESS_TOKEN_TYPES + (("jwt",) if nc.allow_generic_jwt else ())
        if typ.lower() not in allowed:
            raise TokenError(f"typ {typ!r} is not an access token type")

    def _check_claims(self, claims: Mapping[str, Any], issuer: Issuer) -> None:
        now = self.clock()
        nc = issuer.non_conformance
        aud = claims.get("aud")
        if not (aud == issuer.aud or (isinstance(aud, list) and issuer.aud in aud)):
            raise TokenError(f"audience {aud!r} is not {issuer.aud!r}")
        for name, may_miss in (
            ("exp", nc.allow_missing_exp),
            ("iat", nc.allow_missing_iat),
            ("sub", nc.allow_missing_sub),
            ("client_id", nc.allow_missing_client_id),
            ("jti", nc.allow_missing_jti),
        ):
            if name not in claims and not may_miss:
                raise TokenError(f"required claim {name!r} missing")
        for name in ("exp", "iat", "nbf"):
            value = claims.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise TokenError(f"claim {name!r} is not a number")
        if "exp" in claims and now > claims["exp"] + LEEWAY_SECONDS:
            raise TokenError("token expired")
        if "nbf" in claims and now < claims["nbf"] - LEEWAY_SECONDS:
            raise TokenError("token not yet valid")
        if "iat" in claims and now < claims["iat"] - LEEWAY_SECONDS:
            raise TokenError("token issued in the future")
        if self.required_scope:
            scope = claims.get("scope")
            granted = set(scope.split()) if isinstance(scope, str) else set()
            missing = [s for s in self.required_scope if s not in granted]
            if missing:
                raise TokenError(f"token lacks scope {missing}", insufficient_scope=True)

    def _roles(self, claims: Mapping[str, Any], issuer: Issuer) -> frozenset[str]:
        roles = {EVERYONE, *issuer.roles}
        for claim, mapping in issuer.authorization_claims.items():
            raw = claims.get(claim)
            if isinstance(raw, str):
                values = raw.split() if claim in ("scope", "scp") else [raw]
            elif isinstance(raw, list):
                values = [v for v in raw if isinstance(v, str)]
            else:
                continue
            for value in values:
                if mapping == "implicit":
                    roles.add(value)
                elif isinstance(mapping, Mapping):
                    roles.update(r for r in mapping.get(value, ()) if isinstance(r, str))
        if self.known_roles is not None:
            unknown = roles - self.known_roles
            if unknown:
                logger.warning("token of issuer %r names undefined roles %s: ignored", issuer.iss, sorted(unknown))
                roles -= unknown
        return frozenset(roles)
