"""Issue 14 item 3: the dummy hash of an unknown user costs what the configured hashes cost."""

from __future__ import annotations

import pytest
from passlib.hash import sha256_crypt, sha512_crypt

from xentara_ws.security.passwords import cost_parameters, dummy_hash, hash_password, typical_cost, verify_password


@pytest.mark.parametrize(
    "configured",
    [
        sha512_crypt.using(rounds=5000).hash("pw"),
        sha512_crypt.using(rounds=20000).hash("pw"),
        sha256_crypt.using(rounds=8000).hash("pw"),
        hash_password("pw"),  # argon2id with its parameters
    ],
    ids=["sha512-default", "sha512-20000", "sha256-8000", "argon2id"],
)
def test_the_dummy_uses_the_scheme_and_parameters_of_the_configured_hashes(configured: str) -> None:
    cost = typical_cost([configured])
    dummy = dummy_hash(cost)
    assert cost_parameters(dummy) == cost_parameters(configured) is not None
    assert not verify_password("pw", dummy)


def test_the_most_common_parameters_win() -> None:
    hashes = [sha512_crypt.using(rounds=6000).hash("a"), sha512_crypt.using(rounds=6000).hash("b")]
    hashes.append(sha256_crypt.using(rounds=7000).hash("c"))
    assert typical_cost(hashes) == "$6$rounds=6000"


def test_without_configured_hashes_the_dummy_is_a_sha512_crypt_hash() -> None:
    assert dummy_hash(typical_cost([])).startswith("$6$")


def test_bcrypt_costs_are_matched_too() -> None:
    import bcrypt

    configured = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=5)).decode()
    assert cost_parameters(dummy_hash(typical_cost([configured]))) == cost_parameters(configured) == "$2b$05"
