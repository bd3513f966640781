"""Client certificates: preliminary checks, trust, and every client-certs.json rule kind."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from support.fixtures import SCHEMAS, needs_vendor_fixtures
from support.security import NOW, der, make_cert, name, pem

from xentara_ws.security.certificates import CertificateAuthenticator, CertificateError
from xentara_ws.security.config import ConfigurationError, load_configuration

pytestmark = needs_vendor_fixtures

ROOT_DN = "C=DE,O=Example,CN=Example Root"


@pytest.fixture(scope="module")
def pki() -> dict[str, Any]:
    root, root_key = make_cert(
        name(C="DE", O="Example", CN="Example Root"), ca=True, not_before=NOW - 10 * 86400, not_after=NOW + 3650 * 86400
    )
    client, _ = make_cert(
        name(C="DE", O="Example", OU="Plant 1", CN="hmi-7"), root.subject, root_key, serial=0x0A1B2C3D4E
    )
    rogue_root, rogue_key = make_cert(name(C="DE", O="Example", CN="Example Root"), ca=True)
    forged, _ = make_cert(
        name(C="DE", O="Example", OU="Plant 1", CN="hmi-7"), rogue_root.subject, rogue_key, serial=0x0A1B2C3D4E
    )
    return {"root": root, "client": client, "forged": forged}


def authenticator(
    tmp_path: Path, pki: dict[str, Any], rules: list[dict], with_root: bool = True
) -> CertificateAuthenticator:
    folder = tmp_path / "cfg"
    (folder / "certs").mkdir(parents=True, exist_ok=True)
    (folder / "certs" / "root.pem").write_bytes(pem(pki["root"]))
    (folder / "certs" / "hmi.pem").write_bytes(pem(pki["client"]))
    (folder / "security.json").write_text(
        json.dumps(
            {
                "roles": [
                    {"name": "Maintenance", "UUID": "6a0ff5c8-0d36-4d33-9a59-3b4c1f7b0a01"},
                    {"name": "Operator", "UUID": "6a0ff5c8-0d36-4d33-9a59-3b4c1f7b0a02"},
                ]
            }
        )
    )
    doc: dict[str, Any] = {"rules": rules}
    if with_root:
        doc["rootCertificates"] = [{"issuer": ROOT_DN, "certificatePath": "root.pem"}]
    (folder / "client-certs.json").write_text(json.dumps(doc))
    config = load_configuration(folder, SCHEMAS)
    return CertificateAuthenticator(config.client_certs, config.known_roles, clock=lambda: NOW, trust_store=())


def spki_hash(cert: x509.Certificate, algo: Any) -> str:
    return algo(
        cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).hexdigest()


def colon_pairs(hexstr: str) -> str:
    return ":".join(hexstr[i : i + 2] for i in range(0, len(hexstr), 2)).upper()


def test_trust_rule_with_subject_prefix_gives_roles(tmp_path: Path, pki: dict[str, Any]) -> None:
    auth = authenticator(
        tmp_path, pki, [{"issuer": ROOT_DN, "subjectPrefix": "C=DE, O=Example, OU=Plant 1", "roles": ["Maintenance"]}]
    )
    match = auth.authenticate(der(pki["client"]))
    assert match.name == "hmi-7" and match.roles == {"Everyone", "Maintenance"}


@pytest.mark.parametrize(
    "member,good,bad",
    [
        ("subject", "c=de,o=example,ou=plant 1,cn=HMI-7", "C=DE,O=Example,OU=Plant 1,CN=hmi-8"),
        ("subjectPrefix", "C=DE,O=Example", "C=DE,O=Other"),
        ("serialNumber", "0a1b2c3d4e", "0a1b2c3d4f"),
        ("SKI", "<ski>", "00" * 20),
        ("publicKeySHA256", "<pk256>", "ab" * 32),
        ("publicKeySHA1", "<pk1>", "ab" * 20),
    ],
)
def test_each_trust_rule_member_must_match(
    tmp_path: Path, pki: dict[str, Any], member: str, good: str, bad: str
) -> None:
    client = pki["client"]
    ski = client.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()
    subst = {
        "<ski>": " ".join(ski[i : i + 2] for i in range(0, len(ski), 2)),
        "<pk256>": colon_pairs(spki_hash(client, hashlib.sha256)),
        "<pk1>": spki_hash(client, hashlib.sha1),
    }
    auth = authenticator(
        tmp_path,
        pki,
        [
            {"issuer": ROOT_DN, member: subst.get(good, good), "roles": ["Operator"]},
            {"issuer": ROOT_DN, member: bad, "roles": ["Maintenance"]},
        ],
    )
    assert auth.authenticate(der(client)).roles == {"Everyone", "Operator"}


def test_trust_rule_needs_a_trusted_root(tmp_path: Path, pki: dict[str, Any]) -> None:
    rules = [{"issuer": ROOT_DN}]
    with pytest.raises(CertificateError):
        authenticator(tmp_path, pki, rules, with_root=False).authenticate(der(pki["client"]))
    # Same issuer name, different key: the signature check catches the forgery.
    with pytest.raises(CertificateError):
        authenticator(tmp_path, pki, rules).authenticate(der(pki["forged"]))


def test_wrong_issuer_does_not_match(tmp_path: Path, pki: dict[str, Any]) -> None:
    auth = authenticator(tmp_path, pki, [{"issuer": "C=DE,O=Example,CN=Other CA"}])
    with pytest.raises(CertificateError, match=r"no client-certs\.json rule matches"):
        auth.authenticate(der(pki["client"]))


@pytest.mark.parametrize("form", ["plain256", "colon256", "space256", "plain1", "colon1"])
def test_fingerprint_rule_in_every_written_form(tmp_path: Path, pki: dict[str, Any], form: str) -> None:
    self_signed, _ = make_cert(name(CN="lab laptop"))
    raw = (hashlib.sha256 if form.endswith("256") else hashlib.sha1)(der(self_signed)).hexdigest()
    written = {"plain": raw, "colon": colon_pairs(raw), "space": colon_pairs(raw).replace(":", " ")}[
        form[:-3] if form.endswith("256") else form[:-1]
    ]
    auth = authenticator(tmp_path, pki, [{"fingerprint": written, "roles": ["Operator"]}])
    assert auth.authenticate(der(self_signed)).roles == {"Everyone", "Operator"}
    with pytest.raises(CertificateError):
        auth.authenticate(der(pki["client"]))


def test_certificate_path_rule_matches_exactly_that_certificate(tmp_path: Path, pki: dict[str, Any]) -> None:
    auth = authenticator(tmp_path, pki, [{"certificatePath": "hmi.pem", "roles": ["Maintenance"]}])
    assert auth.authenticate(der(pki["client"])).roles == {"Everyone", "Maintenance"}
    with pytest.raises(CertificateError):
        auth.authenticate(der(pki["forged"]))  # same subject and serial, other bytes


def test_roles_of_all_matching_rules_are_combined(tmp_path: Path, pki: dict[str, Any]) -> None:
    auth = authenticator(
        tmp_path,
        pki,
        [{"certificatePath": "hmi.pem", "roles": ["Maintenance"]}, {"issuer": ROOT_DN, "roles": ["Operator"]}],
    )
    assert auth.authenticate(der(pki["client"])).roles == {"Everyone", "Maintenance", "Operator"}


def test_expired_or_not_yet_valid_certificate_is_refused(tmp_path: Path, pki: dict[str, Any]) -> None:
    expired, _ = make_cert(name(CN="old"), not_before=NOW - 10 * 86400, not_after=NOW - 86400)
    future, _ = make_cert(name(CN="new"), not_before=NOW + 86400, not_after=NOW + 10 * 86400)
    rules = [{"fingerprint": hashlib.sha256(der(c)).hexdigest()} for c in (expired, future)]
    auth = authenticator(tmp_path, pki, rules)
    for cert in (expired, future):
        with pytest.raises(CertificateError, match="validity period"):
            auth.authenticate(der(cert))


def test_server_only_extended_key_usage_is_refused(tmp_path: Path, pki: dict[str, Any]) -> None:
    server, _ = make_cert(name(CN="srv"), extensions=[x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])])
    auth = authenticator(tmp_path, pki, [{"fingerprint": hashlib.sha256(der(server)).hexdigest()}])
    with pytest.raises(CertificateError, match="client authentication"):
        auth.authenticate(der(server))


def test_rule_with_members_of_two_kinds_is_a_configuration_error(tmp_path: Path, pki: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as err:
        authenticator(tmp_path, pki, [{"fingerprint": "ab" * 32, "issuer": ROOT_DN}])
    assert "client-certs.json: $.rules[0]" in str(err.value)
