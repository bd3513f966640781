"""HTTP upgrade authentication (Basic, Bearer), back-off after failed logins, sub-session logins."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey
from support.clocks import FakeClock
from support.fixtures import SAMPLE_CONFIG as SAMPLE
from support.fixtures import SCHEMAS, needs_vendor_fixtures, sample_password
from support.security import NOW, access_token, der, make_cert, name, pem
from support.security import basic_authorization as basic

from xentara_ws.security.authentication import AuthenticationFailed, Authenticator, Principal
from xentara_ws.security.config import load_configuration

pytestmark = needs_vendor_fixtures  # all but one test use the sample configuration


@pytest.fixture
def sample_auth() -> Authenticator:
    return Authenticator(load_configuration(SAMPLE, SCHEMAS), clock=FakeClock())


def test_sample_user_logs_in_with_basic_and_gets_roles(sample_auth: Authenticator) -> None:
    principal = sample_auth.authenticate_http(basic("xentara", sample_password()), "10.0.0.1")
    assert principal == Principal("xentara", frozenset({"Everyone", "Administrator"}), "user")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        basic("xentara", "wrong"),
        ("nobody", "SAMPLE PASSWORD"),  # the sample's password is read when the test runs, not at collection
        ("Xentara", "SAMPLE PASSWORD"),
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Bearer abc.def.ghi",  # Bearer is not enabled in the sample: same as no credentials
    ],
)
def test_bad_or_missing_credentials_get_401_with_basic_challenge(
    sample_auth: Authenticator, header: str | tuple[str, str] | None
) -> None:
    if isinstance(header, tuple):
        header = basic(header[0], sample_password())
    with pytest.raises(AuthenticationFailed) as err:
        sample_auth.authenticate_http(header, "10.0.0.1")
    assert err.value.status == 401
    assert err.value.www_authenticate == ('Basic realm="Xentara", charset="UTF-8"',)


def test_repeated_failures_lock_out_the_address_even_with_good_credentials(sample_auth: Authenticator) -> None:
    clock = sample_auth.clock
    assert isinstance(clock, FakeClock)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            sample_auth.authenticate_http(basic("xentara", "guess"), "10.0.0.66")
    with pytest.raises(AuthenticationFailed) as err:
        sample_auth.authenticate_http(basic("xentara", sample_password()), "10.0.0.66")
    assert err.value.status == 429 and err.value.retry_after == 60
    # Other clients are not affected.
    assert sample_auth.authenticate_http(basic("xentara", sample_password()), "10.0.0.67").name == "xentara"
    clock.now += 61
    assert sample_auth.authenticate_http(basic("xentara", sample_password()), "10.0.0.66").name == "xentara"


def test_failures_spread_over_more_than_the_window_do_not_lock_out(sample_auth: Authenticator) -> None:
    clock = sample_auth.clock
    assert isinstance(clock, FakeClock)
    for _ in range(8):
        with pytest.raises(AuthenticationFailed) as err:
            sample_auth.authenticate_http(basic("xentara", "guess"), "10.0.0.5")
        assert err.value.status == 401
        clock.now += 20
    assert sample_auth.authenticate_http(basic("xentara", sample_password()), "10.0.0.5").kind == "user"


def test_sub_session_password_login(sample_auth: Authenticator) -> None:
    assert sample_auth.authenticate_password("xentara", sample_password()).roles == {"Everyone", "Administrator"}
    with pytest.raises(AuthenticationFailed):
        sample_auth.authenticate_password("xentara", "nope")
    with pytest.raises(AuthenticationFailed):
        sample_auth.authenticate_password("ghost", "nope")


def test_anonymous_only_with_the_explicit_insecure_switch() -> None:
    config = load_configuration(SAMPLE)
    with pytest.raises(AuthenticationFailed):
        Authenticator(config).authenticate_http(None, "::1")
    principal = Authenticator(config, allow_anonymous=True).authenticate_http(None, "::1")
    assert principal.kind == "anonymous" and principal.roles == {"Everyone"}


# -- Bearer tokens ---------------------------------------------------------------------------------

ISS = "https://idp.example.com/"
AUD = "xentara-test"


@pytest.fixture
def issuer_key() -> ECKey:
    return ECKey.generate_key("P-256", private=True)


def token(key: object, claims: dict | None = None, header: dict | None = None, drop: tuple[str, ...] = ()) -> str:
    claims = {"groups": ["ops"], **(claims or {})}
    return access_token(
        key,
        iss=ISS,
        aud=AUD,
        now=NOW,
        issued_ago=10,
        scope="com.example:xentara",
        claims=claims,
        header=header,
        drop=drop,
    )


@pytest.fixture
def bearer_auth(tmp_path: Path, issuer_key: ECKey) -> Authenticator:
    folder = tmp_path / "cfg"
    (folder / "oauth2" / "keys").mkdir(parents=True)
    (folder / "oauth2" / "keys" / "idp.pem").write_bytes(issuer_key.as_pem(private=False))
    (folder / "config.json").write_text(json.dumps({"httpServer": {"port": 8443}}))
    (folder / "security.json").write_text(
        json.dumps(
            {"roles": [{"name": "Operator", "UUID": str(uuid.uuid4())}, {"name": "Viewer", "UUID": str(uuid.uuid4())}]}
        )
    )
    (folder / "oauth2.json").write_text(
        json.dumps(
            {
                "scope": ["com.example:xentara"],
                "issuers": [
                    {
                        "iss": ISS,
                        "aud": AUD,
                        "roles": ["Viewer"],
                        "authorizationClaims": {"groups": {"ops": ["Operator"], "other": ["Nope"]}},
                        "verification": {"publicKey": "idp.pem", "algorithms": ["ES256"]},
                    }
                ],
            }
        )
    )
    return Authenticator(load_configuration(folder, SCHEMAS), clock=FakeClock())


def test_valid_token_is_accepted_with_issuer_and_claim_roles(bearer_auth: Authenticator, issuer_key: ECKey) -> None:
    principal = bearer_auth.authenticate_http("Bearer " + token(issuer_key), "10.1.1.1")
    assert principal == Principal("alice", frozenset({"Everyone", "Viewer", "Operator"}), "token", ISS)


def _refused(auth: Authenticator, jwt: str) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as err:
        auth.authenticate_http("Bearer " + jwt, "10.1.1.1")
    return err.value


@pytest.mark.parametrize(
    "claims,header,drop",
    [
        ({"iss": "https://evil.example.com/"}, {}, ()),
        ({"aud": "someone-else"}, {}, ()),
        ({"exp": NOW - 61}, {}, ()),
        ({"nbf": NOW + 61}, {}, ()),
        ({"iat": NOW + 120}, {}, ()),
        ({}, {"typ": "JWT"}, ()),
        ({}, {}, ("exp",)),
        ({}, {}, ("jti",)),
    ],
    ids=[
        "wrong-issuer",
        "wrong-audience",
        "expired",
        "not-yet-valid",
        "issued-in-future",
        "generic-typ",
        "no-exp",
        "no-jti",
    ],
)
def test_invalid_tokens_get_401_invalid_token(
    bearer_auth: Authenticator, issuer_key: ECKey, claims: dict, header: dict, drop: tuple[str, ...]
) -> None:
    err = _refused(bearer_auth, token(issuer_key, claims, header, drop))
    assert err.status == 401
    assert err.www_authenticate[0] == 'Bearer realm="Xentara", scope="com.example:xentara", error="invalid_token"'
    assert err.www_authenticate[1].startswith('Basic realm="Xentara"')


def test_leeway_accepts_small_clock_skew(bearer_auth: Authenticator, issuer_key: ECKey) -> None:
    assert (
        bearer_auth.authenticate_http("Bearer " + token(issuer_key, {"exp": NOW - 30, "nbf": NOW + 30}), "a").name
        == "alice"
    )


def test_audience_array_containing_ours_is_accepted(bearer_auth: Authenticator, issuer_key: ECKey) -> None:
    assert bearer_auth.authenticate_http("Bearer " + token(issuer_key, {"aud": ["x", AUD]}), "a").kind == "token"


def test_bad_signature_is_refused(bearer_auth: Authenticator, issuer_key: ECKey) -> None:
    other = ECKey.generate_key("P-256", private=True)
    assert _refused(bearer_auth, token(other)).status == 401
    head, body, sig = token(issuer_key).split(".")
    tampered = json.loads(base64.urlsafe_b64decode(body + "=="))
    tampered["sub"] = "mallory"
    body2 = base64.urlsafe_b64encode(json.dumps(tampered).encode()).decode().rstrip("=")
    assert _refused(bearer_auth, f"{head}.{body2}.{sig}").status == 401


def test_alg_none_and_algorithms_outside_the_allow_list_are_refused(
    bearer_auth: Authenticator, issuer_key: ECKey
) -> None:
    head = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "at+jwt"}).encode()).decode().rstrip("=")
    body = token(issuer_key).split(".")[1]
    assert _refused(bearer_auth, f"{head}.{body}.").status == 401
    # HS256 signed with the issuer's public key bytes: the classic key-confusion attack.
    hs_head = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode()).decode().rstrip("=")
    mac = hmac.new(issuer_key.as_pem(private=False), f"{hs_head}.{body}".encode(), hashlib.sha256).digest()
    confused = f"{hs_head}.{body}." + base64.urlsafe_b64encode(mac).decode().rstrip("=")
    assert _refused(bearer_auth, confused).status == 401
    es384 = ECKey.generate_key("P-384", private=True)
    assert _refused(bearer_auth, token(es384, header={"alg": "ES384"})).status == 401


def test_missing_scope_is_403_insufficient_scope(bearer_auth: Authenticator, issuer_key: ECKey) -> None:
    err = _refused(bearer_auth, token(issuer_key, {"scope": "openid"}))
    assert err.status == 403
    assert err.www_authenticate == ('Bearer realm="Xentara", scope="com.example:xentara", error="insufficient_scope"',)


def test_sub_session_token_login(bearer_auth: Authenticator, issuer_key: ECKey) -> None:
    assert bearer_auth.authenticate_token(token(issuer_key)).name == "alice"
    with pytest.raises(AuthenticationFailed):
        bearer_auth.authenticate_token(token(issuer_key, {"exp": NOW - 3600}))


def test_non_conformance_switches_and_jwks_file(tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256", private=True, parameters={"kid": "k1"})
    folder = tmp_path / "cfg"
    (folder / "oauth2" / "jwks").mkdir(parents=True)
    (folder / "oauth2" / "jwks" / "idp.json").write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    (folder / "oauth2.json").write_text(
        json.dumps(
            {
                "issuers": [
                    {
                        "iss": ISS,
                        "aud": AUD,
                        "verification": {"jwks": "idp.json"},
                        "nonConformance": {"allowGenericJwt": True, "allowMissingTyp": True, "allowMissingJti": True},
                    }
                ]
            }
        )
    )
    auth = Authenticator(load_configuration(folder, SCHEMAS), clock=FakeClock())
    assert auth.authenticate_token(token(key, header={"typ": "JWT", "kid": "k1"}, drop=("jti",))).roles == {"Everyone"}
    assert auth.authenticate_token(token(key, header={"typ": None, "kid": "k1"})).kind == "token"
    with pytest.raises(AuthenticationFailed):
        auth.authenticate_token(token(key, header={"kid": "k1"}, drop=("sub",)))


def test_certificate_sub_session_login(tmp_path: Path) -> None:
    cert, _ = make_cert(name(C="DE", O="Example", CN="panel-1"))
    folder = tmp_path / "cfg"
    (folder / "certs").mkdir(parents=True)
    (folder / "certs" / "panel.pem").write_bytes(pem(cert))
    (folder / "client-certs.json").write_text(json.dumps({"rules": [{"certificatePath": "panel.pem"}]}))
    auth = Authenticator(load_configuration(folder, SCHEMAS), clock=FakeClock())
    assert auth.authenticate_certificate(der(cert)) == Principal("panel-1", frozenset({"Everyone"}), "certificate")
    other, _ = make_cert(name(C="DE", O="Example", CN="panel-2"))
    with pytest.raises(AuthenticationFailed):
        auth.authenticate_certificate(der(other))
    with pytest.raises(AuthenticationFailed):
        auth.authenticate_certificate(b"garbage")


def test_unknown_user_still_costs_a_hash_verification(
    sample_auth: Authenticator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xentara_ws.security import authentication, passwords

    calls: list[tuple[str, str]] = []
    real = passwords.verify_password

    def recording(password: str, hashed: str) -> bool:
        calls.append((password, hashed))
        return bool(real(password, hashed))

    monkeypatch.setattr(passwords, "verify_password", recording)
    monkeypatch.setattr(authentication, "verify_password", recording)
    with pytest.raises(AuthenticationFailed):
        sample_auth.authenticate_http(basic("nobody", "pw"), "10.9.9.9")
    with pytest.raises(AuthenticationFailed):
        sample_auth.authenticate_http(basic("xentara", "pw"), "10.9.9.9")
    (unknown_pw, unknown_hash), (known_pw, known_hash) = calls
    assert unknown_pw == known_pw == "pw"
    # Same scheme and cost as the configured hash: an unknown user takes as long as a wrong password.
    assert passwords.cost_parameters(unknown_hash) == passwords.cost_parameters(known_hash) is not None
    assert unknown_hash != known_hash


def test_config_without_authentication_section_challenges_bearer_then_basic(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"httpServer": {"port": 8080}}))
    with pytest.raises(AuthenticationFailed) as err:
        Authenticator(load_configuration(folder)).authenticate_http(None, "1.1.1.1")
    assert err.value.www_authenticate == ('Bearer realm="Xentara"', 'Basic realm="Xentara", charset="UTF-8"')


@pytest.mark.parametrize("kind,alg", [("rsa", "RS256"), ("rsa", "PS512"), ("ed25519", "EdDSA"), ("p384", "ES384")])
def test_other_key_types_verify_with_the_default_allow_list(tmp_path: Path, kind: str, alg: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from joserfc.jwk import import_key

    private = {
        "rsa": lambda: rsa.generate_private_key(65537, 2048),
        "ed25519": ed25519.Ed25519PrivateKey.generate,
        "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    }[kind]()
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "idp.pem").write_bytes(
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    (folder / "oauth2.json").write_text(
        json.dumps({"issuers": [{"iss": ISS, "aud": AUD, "verification": {"publicKeyPath": "idp.pem"}}]})
    )
    auth = Authenticator(load_configuration(folder, SCHEMAS), clock=FakeClock())
    signing = import_key(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        {"rsa": "RSA", "ed25519": "OKP", "p384": "EC"}[kind],
    )
    assert auth.authenticate_token(token(signing, header={"alg": alg})).name == "alice"
