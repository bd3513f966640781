"""Security material for tests: config folders, X.509 certificates (CA-signed or a self-signed TLS server
certificate), OAuth 2.0 access tokens, and a sub-session authenticator with fixed logins."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc import jws

NOW = 1_800_000_000.0  # a fixed "current time" for clock-dependent tests (Jan 2027)


def write_json(folder: Path, name: str, document: Any) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def basic_authorization(user: str, password: str) -> str:
    """The value of an `Authorization: Basic` header."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def basic_headers(user: str, password: str) -> dict[str, str]:
    """`additional_headers` for a client that logs in with Basic on the upgrade."""
    return {"Authorization": basic_authorization(user, password)}


# -- certificates ----------------------------------------------------------------------------------


def name(**attrs: str) -> x509.Name:
    oids = {
        "C": NameOID.COUNTRY_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "CN": NameOID.COMMON_NAME,
    }
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attrs.items()])


def make_cert(
    subject: x509.Name,
    issuer: x509.Name | None = None,
    issuer_key: Any = None,
    *,
    not_before: float = NOW - 86400,
    not_after: float = NOW + 86400,
    serial: int = 0x1234ABCD,
    ca: bool = False,
    extensions: list[x509.ExtensionType] = (),
) -> tuple[x509.Certificate, Any]:
    """A certificate with a fresh P-256 key, self-signed unless `issuer_key` is given."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(dt.datetime.fromtimestamp(not_before, dt.UTC))
        .not_valid_after(dt.datetime.fromtimestamp(not_after, dt.UTC))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    for ext in extensions:
        builder = builder.add_extension(ext, critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return cert, key


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: Any) -> bytes:
    return bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


@dataclass
class TLSMaterial:
    cert_file: Path
    key_file: Path
    der: bytes

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def loopback_tls_material(folder: Path) -> TLSMaterial:
    """A self-signed certificate for 127.0.0.1 valid from yesterday for 30 days (also usable as its own CA file)."""
    now = time.time()
    certificate, key = make_cert(
        name(CN="127.0.0.1"),
        not_before=now - 86400,
        not_after=now + 30 * 86400,
        serial=x509.random_serial_number(),
        ca=True,
        extensions=[x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])],
    )
    cert_file = folder / "server.pem"
    key_file = folder / "server.key"
    cert_file.write_bytes(pem(certificate))
    key_file.write_bytes(key_pem(key))
    return TLSMaterial(cert_file, key_file, der(certificate))


def insecure_context() -> ssl.SSLContext:
    """A client context that accepts any server certificate (the tests' servers use self-signed ones)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


# -- OAuth 2.0 access tokens -----------------------------------------------------------------------

ISSUER = "https://idp.example.com/"


def access_token(
    key: Any,
    *,
    aud: str,
    iss: str = ISSUER,
    now: float | None = None,
    issued_ago: float = 5,
    scope: str = "xentara",
    claims: dict[str, Any] | None = None,
    header: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
) -> str:
    """A signed `at+jwt` (ES256 unless `header` says otherwise) for user alice of client hmi, valid for
    300 s after `now` (default: the real time); `claims` override or add, `drop` removes, a `header`
    value of None removes that header field."""
    moment = int(time.time()) if now is None else now
    body = {
        "iss": iss,
        "aud": aud,
        "sub": "alice",
        "client_id": "hmi",
        "jti": str(uuid.uuid4()),
        "iat": moment - issued_ago,
        "exp": moment + 300,
        "scope": scope,
    }
    body.update(claims or {})
    for claim in drop:
        body.pop(claim)
    fields = {"alg": "ES256", "typ": "at+jwt"}
    fields.update(header or {})
    fields = {k: v for k, v in fields.items() if v is not None}
    return jws.serialize_compact(fields, json.dumps(body).encode(), key, algorithms=[fields["alg"]])


def trust_issuer(folder: Path, key: Any, *, aud: str, roles: list[str], iss: str = ISSUER) -> None:
    """Let the configuration in `folder` accept `key`'s ES256 access tokens for `aud`, granting `roles`:
    the public key as oauth2/keys/idp.pem, one issuer in oauth2.json, and Bearer offered before Basic."""
    (folder / "oauth2" / "keys").mkdir(parents=True)
    (folder / "oauth2" / "keys" / "idp.pem").write_bytes(key.as_pem(private=False))
    config = json.loads((folder / "config.json").read_text())
    config.setdefault("httpServer", {})["authentication"] = {"schemes": ["Bearer", "Basic"], "realm": "Plant"}
    (folder / "config.json").write_text(json.dumps(config))
    issuer = {"iss": iss, "aud": aud, "roles": roles, "verification": {"publicKey": "idp.pem", "algorithms": ["ES256"]}}
    (folder / "oauth2.json").write_text(json.dumps({"issuers": [issuer]}))


# -- sub-session logins ----------------------------------------------------------------------------


class PasswordLogins:
    """Sub-session authenticator for tests: operator/secret, token 'good-token', any certificate."""

    def __init__(self) -> None:
        self.logins: list[tuple[str, Any]] = []

    async def authenticate_token(self, token: str, peer: str) -> Any:
        self.logins.append(("token", token))
        if token != "good-token":
            raise ValueError("bad token")
        return "token-user"

    async def authenticate_certificate(self, der: bytes, peer: str) -> Any:
        self.logins.append(("certificate", der))
        return "certificate-user"

    async def authenticate_password(self, user: str, password: str, peer: str) -> Any:
        self.logins.append(("password", user))
        if (user, password) != ("operator", "secret"):
            raise ValueError("bad password")
        return user
