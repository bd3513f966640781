"""Upgrade-time authentication through a real server: Bearer tokens, Basic, and the login back-off."""

from __future__ import annotations

import shutil
import time

import pytest
from joserfc.jwk import ECKey
from support.fixtures import SAMPLE_CONFIG, needs_vendor_fixtures, sample_password
from support.raw_client import RawClient
from support.security import access_token, insecure_context, trust_issuer
from support.servers import served
from websockets.exceptions import InvalidStatus

pytestmark = needs_vendor_fixtures

ISS = "https://idp.example.com/"
AUD = "xentara-ws-test"


def token(key: ECKey, **claims: object) -> str:
    return access_token(key, iss=ISS, aud=AUD, claims=claims)


@pytest.fixture
def issuer_key() -> ECKey:
    return ECKey.generate_key("P-256", private=True)


@pytest.fixture
async def server(tmp_path, issuer_key):
    folder = tmp_path / "config"
    shutil.copytree(SAMPLE_CONFIG, folder)
    trust_issuer(folder, issuer_key, iss=ISS, aud=AUD, roles=["Administrator"])
    async with served("--config", str(folder), "--state-dir", str(tmp_path / "state")) as instance:
        yield instance


async def connect(server, authorization: str, hello: bool = True) -> RawClient:
    return await RawClient.open(
        server.port,
        scheme="wss",
        ssl=insecure_context(),
        hello=hello,
        additional_headers={"Authorization": authorization},
    )


async def test_a_valid_bearer_token_is_admitted_with_the_issuers_roles(server, issuer_key):
    client = await connect(server, "Bearer " + token(issuer_key))
    register = (await client.request(3, {0: "Semantic Sampler.Test Register"}))[2]
    assert (await client.request(5, {0: register, 1: 11, 2: 9}))[0] == 1, "Administrator role from the issuer"
    await client.close()


@pytest.mark.parametrize(
    "claims", [{"iss": "https://evil.example.com/"}, {"aud": "other"}, {"exp": int(time.time()) - 3600}]
)
async def test_bad_tokens_are_refused_with_a_bearer_challenge(server, issuer_key, claims):
    with pytest.raises(InvalidStatus) as refused:
        await connect(server, "Bearer " + token(issuer_key, **claims), hello=False)
    response = refused.value.response
    assert response.status_code == 401
    challenges = response.headers.get_all("WWW-Authenticate")
    assert any(c.startswith('Bearer realm="Plant"') for c in challenges)
    assert any(c.startswith('Basic realm="Plant"') for c in challenges)


async def test_a_token_signed_by_another_key_is_refused(server):
    forged = token(ECKey.generate_key("P-256", private=True))
    with pytest.raises(InvalidStatus) as refused:
        await connect(server, "Bearer " + forged, hello=False)
    assert refused.value.response.status_code == 401


async def test_repeated_failed_logins_from_one_address_are_backed_off_with_retry_after(server):
    import base64

    bad = "Basic " + base64.b64encode(b"xentara:wrong").decode()
    statuses = []
    for _ in range(7):
        with pytest.raises(InvalidStatus) as refused:
            await connect(server, bad, hello=False)
        statuses.append(refused.value.response.status_code)
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429
    password = sample_password()
    good = "Basic " + base64.b64encode(f"xentara:{password}".encode()).decode()
    with pytest.raises(InvalidStatus) as refused:
        await connect(server, good, hello=False)
    assert refused.value.response.status_code == 429
    assert int(refused.value.response.headers["Retry-After"]) > 0
