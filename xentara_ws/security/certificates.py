"""Client-certificate authentication: DER parsing, preliminary checks, trust, and client-certs.json rules.

Follows the security reference §6.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .config import EVERYONE, CertificateRule, ClientCertsConfig

logger = logging.getLogger(__name__)

NTDS_CA_SECURITY_EXT = x509.ObjectIdentifier("1.3.6.1.4.1.311.25.2")
_SID = re.compile(rb"S-1(?:-[0-9]+)+")

# Attribute names a configuration may use in a DN, mapped to the OID so either spelling matches.
_DN_NAMES: dict[str, str] = {
    "C": NameOID.COUNTRY_NAME.dotted_string,
    "ST": NameOID.STATE_OR_PROVINCE_NAME.dotted_string,
    "S": NameOID.STATE_OR_PROVINCE_NAME.dotted_string,
    "L": NameOID.LOCALITY_NAME.dotted_string,
    "O": NameOID.ORGANIZATION_NAME.dotted_string,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME.dotted_string,
    "CN": NameOID.COMMON_NAME.dotted_string,
    "DC": NameOID.DOMAIN_COMPONENT.dotted_string,
    "UID": NameOID.USER_ID.dotted_string,
    "STREET": NameOID.STREET_ADDRESS.dotted_string,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER.dotted_string,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS.dotted_string,
    "E": NameOID.EMAIL_ADDRESS.dotted_string,
    "GN": NameOID.GIVEN_NAME.dotted_string,
    "GIVENNAME": NameOID.GIVEN_NAME.dotted_string,
    "SN": NameOID.SURNAME.dotted_string,
    "T": NameOID.TITLE.dotted_string,
    "TITLE": NameOID.TITLE.dotted_string,
}


class CertificateError(Exception):
    """The certificate is refused; the reason is for the log, never for the client."""


@dataclass(frozen=True)
class CertificateMatch:
    name: str
    roles: frozenset[str]
    certificate: x509.Certificate


# -- distinguished names -------------------------------------------------------------------------

Rdn = frozenset[tuple[str, str]]


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, escaped = [], "", False
    for ch in text:
        if escaped:
            current += "\\" + ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def parse_dn(text: str) -> tuple[Rdn, ...]:
    """A configured DN (first-to-last, C= or DC= first) as normalised RDNs; ValueError if malformed."""
    rdns = []
    for rdn_text in _split_unescaped(text, ","):
        attrs = []
        for attr in _split_unescaped(rdn_text, "+"):
            if "=" not in attr:
                raise ValueError(f"{attr.strip()!r} is not TYPE=value")
            typ, value = attr.split("=", 1)
            typ = typ.strip().upper()
            attrs.append((_DN_NAMES.get(typ, typ), _unescape(value.strip()).casefold()))
        rdns.append(frozenset(attrs))
    return tuple(rdns)


def name_rdns(name: x509.Name) -> tuple[Rdn, ...]:
    """A certificate Name as normalised RDNs in ASN.1 order (C first), comparable with parse_dn."""
    return tuple(frozenset((a.oid.dotted_string, str(a.value).strip().casefold()) for a in rdn) for rdn in name.rdns)


def dn_text(name: x509.Name) -> str:
    """A Name written first-to-last (C first), the way client-certs.json writes DNs."""
    return ",".join("+".join(a.rfc4514_string() for a in rdn) for rdn in name.rdns)


# -- helpers ---------------------------------------------------------------------------------------


def load_pem_certificates(path: Path) -> list[x509.Certificate]:
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def _system_trust_store() -> list[x509.Certificate]:
    paths = ssl.get_default_verify_paths()
    certs: list[x509.Certificate] = []
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            try:
                certs.extend(x509.load_pem_x509_certificates(Path(candidate).read_bytes()))
            except ValueError as exc:
                logger.warning("cannot read system CA bundle %s: %s", candidate, exc)
            break
    return certs


def _spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _within_validity(cert: x509.Certificate, now: float) -> bool:
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    return cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc


class CertificateAuthenticator:
    """Decides whether a client certificate is accepted and which roles it gets."""

    def __init__(
        self,
        client_certs: ClientCertsConfig,
        known_roles: frozenset[str] | None = None,
        clock: Callable[[], float] = time.time,
        trust_store: Sequence[x509.Certificate] | None = None,
    ) -> None:
        """`trust_store` None = the operating system's CA bundle, loaded on first need."""
        self.clock = clock
        self.known_roles = known_roles
        self.rules = client_certs.rules
        self._system_store: list[x509.Certificate] | None = list(trust_store) if trust_store is not None else None
        self._roots: list[x509.Certificate] = []
        for root in client_certs.root_certificates:
            try:
                self._roots.extend(load_pem_certificates(root.certificate_path))
            except (OSError, ValueError) as exc:
                logger.error("root certificate %s cannot be loaded: %s", root.certificate_path, exc)
        self._rule_certs: dict[int, set[bytes]] = {}
        self._rule_dns: dict[int, dict[str, tuple[Rdn, ...]]] = {}
        for i, rule in enumerate(self.rules):
            if rule.kind == "certificate" and rule.certificate_path is not None:
                try:
                    self._rule_certs[i] = {
                        c.public_bytes(serialization.Encoding.DER) for c in load_pem_certificates(rule.certificate_path)
                    }
                except (OSError, ValueError) as exc:
                    logger.error("client certificate %s cannot be loaded: %s", rule.certificate_path, exc)
            if rule.kind == "trust":
                try:
                    self._rule_dns[i] = {
                        k: parse_dn(v)
                        for k, v in (
                            ("issuer", rule.issuer),
                            ("subject", rule.subject),
                            ("subjectPrefix", rule.subject_prefix),
                        )
                        if v
                    }
                except ValueError as exc:
                    logger.error("client-certs rule %d has a malformed DN (%s): rule ignored", i, exc)

    @property
    def enabled(self) -> bool:
        return bool(self.rules)

    def authenticate(self, der: bytes) -> CertificateMatch:
        """Roles for a DER certificate, or CertificateError. Proof of possession is the caller's job."""
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            raise CertificateError("not a DER X.509 certificate") from None
        self._preliminary_checks(cert)
        roles: set[str] = {EVERYONE}
        matched = False
        for i, rule in enumerate(self.rules):
            if self._matches(i, rule, cert, der):
                matched = True
                roles.update(rule.roles)
        if not matched:
            raise CertificateError(f"no client-certs.json rule matches {dn_text(cert.subject)!r}")
        if self.known_roles is not None:
            roles &= self.known_roles | {EVERYONE}
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        name = str(cns[0].value) if cns else dn_text(cert.subject)
        return CertificateMatch(name=name, roles=frozenset(roles), certificate=cert)

    def _preliminary_checks(self, cert: x509.Certificate) -> None:
        if cert.version is not x509.Version.v3:
            raise CertificateError("not an X.509 v3 certificate")
        if not _within_validity(cert, self.clock()):
            raise CertificateError("certificate outside its validity period")
        try:
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            return
        if ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
            raise CertificateError("extended key usage does not allow client authentication")

    def _matches(self, index: int, rule: CertificateRule, cert: x509.Certificate, der: bytes) -> bool:
        if rule.kind == "fingerprint" and rule.fingerprint:
            algo = hashlib.sha256 if len(rule.fingerprint) == 64 else hashlib.sha1
            return algo(der).hexdigest() == rule.fingerprint
        if rule.kind == "certificate":
            return der in self._rule_certs.get(index, set())
        if rule.kind != "trust" or index not in self._rule_dns:
            return False
        dns = self._rule_dns[index]
        subject = name_rdns(cert.subject)
        if name_rdns(cert.issuer) != dns["issuer"]:
            return False
        if "subject" in dns and subject != dns["subject"]:
            return False
        prefix = dns.get("subjectPrefix")
        if prefix is not None and subject[: len(prefix)] != prefix:
            return False
        if rule.serial_number is not None and int(rule.serial_number, 16) != cert.serial_number:
            return False
        if rule.ski is not None:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()
            except x509.ExtensionNotFound:
                return False
            if ski != rule.ski:
                return False
        if rule.public_key_sha256 is not None and hashlib.sha256(_spki(cert)).hexdigest() != rule.public_key_sha256:
            return False
        if rule.public_key_sha1 is not None and hashlib.sha1(_spki(cert)).hexdigest() != rule.public_key_sha1:
            return False
        if rule.ntds_object_sid is not None and rule.ntds_object_sid.encode() not in self._sids(cert):
            return False
        # Only after every field matched: the issuer must chain to a trusted root.
        if not self._trusted(cert):
            logger.info(
                "certificate %r matches rule %d but is not issued by a trusted root", dn_text(cert.subject), index
            )
            return False
        return True

    @staticmethod
    def _sids(cert: x509.Certificate) -> list[bytes]:
        try:
            ext = cert.extensions.get_extension_for_oid(NTDS_CA_SECURITY_EXT).value
        except x509.ExtensionNotFound:
            return []
        # The SID sits as ASCII text inside the extension's OtherName; a text search avoids an ASN.1 parser.
        raw = ext.value if isinstance(ext, x509.UnrecognizedExtension) else b""
        return _SID.findall(raw)

    def _trusted(self, cert: x509.Certificate) -> bool:
        if self._directly_issued_by_any(cert, self._roots):
            return True
        if self._system_store is None:
            self._system_store = _system_trust_store()
        return self._directly_issued_by_any(cert, self._system_store)

    def _directly_issued_by_any(self, cert: x509.Certificate, cas: Sequence[x509.Certificate]) -> bool:
        now = self.clock()
        for ca in cas:
            if ca.subject != cert.issuer or not _within_validity(ca, now):
                continue
            try:
                cert.verify_directly_issued_by(ca)
                return True
            except (ValueError, TypeError, InvalidSignature):
                continue
        return False
