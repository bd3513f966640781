"""Validation of oauth2.json: token issuers, their keys, scopes and role mappings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .json_files import SCOPE_TOKEN, Problems, resolve, string_list
from .types import ACCEPTED_JWT_ALGORITHMS, EVERYONE, FILE_NAMES, Issuer, NonConformance, OAuth2Config

# Tolerant member names for an issuer's undocumented `verification` object (reference §8.9).
_PEM_KEYS = ("publicKey", "publicKeyPath", "publicKeyFile", "keyFile", "keyPath", "pem", "pemFile")

_JWKS_KEYS = ("jwks", "jwksPath", "jwksFile", "jwkSet", "jwkSetPath", "jwkSetFile", "keySet", "keySetPath")


def load_oauth2(
    doc: Mapping[str, Any], config_dir: Path, known_roles: frozenset[str], problems: Problems
) -> OAuth2Config:
    file = FILE_NAMES["oauth2"]
    scope = string_list(doc.get("scope"), file, "$.scope", problems)
    for i, s in enumerate(scope):
        if not SCOPE_TOKEN.match(s):
            problems.error(file, f"$.scope[{i}]", f"invalid scope token {s!r}")
    raw = doc.get("issuers")
    issuers: list[Issuer] = []
    if raw is not None and not isinstance(raw, list):
        problems.error(file, "$.issuers", "must be an array")
        raw = None
    seen: set[str] = set()
    for i, item in enumerate(raw or []):
        ipath = f"$.issuers[{i}]"
        if not isinstance(item, Mapping):
            problems.error(file, ipath, "must be an object")
            continue
        iss, aud = item.get("iss"), item.get("aud")
        if not isinstance(iss, str) or not iss:
            problems.error(file, f"{ipath}.iss", "required non-empty string")
            continue
        if not isinstance(aud, str) or not aud:
            problems.error(file, f"{ipath}.aud", "required non-empty string")
            continue
        if iss in seen:
            problems.error(file, f"{ipath}.iss", f"duplicate issuer {iss!r}")
            continue
        roles = string_list(item.get("roles"), file, f"{ipath}.roles", problems)
        for j, r in enumerate(roles):
            if r not in known_roles:
                problems.warn(file, f"{ipath}.roles[{j}]", f"undefined role {r!r} ignored")
        claims = item.get("authorizationClaims", {})
        if not isinstance(claims, Mapping) or not all(
            v == "implicit" or (isinstance(v, Mapping) and all(isinstance(rs, list) for rs in v.values()))
            for v in claims.values()
        ):
            problems.error(file, f"{ipath}.authorizationClaims", 'claim -> "implicit" or {value: [roles]} expected')
            claims = {}
        nc_raw = item.get("nonConformance", {})
        nc_fields = {
            "allowGenericJwt": "allow_generic_jwt",
            "allowMissingTyp": "allow_missing_typ",
            "allowMissingIat": "allow_missing_iat",
            "allowMissingExp": "allow_missing_exp",
            "allowMissingSub": "allow_missing_sub",
            "allowMissingClientId": "allow_missing_client_id",
            "allowMissingJti": "allow_missing_jti",
        }
        nc_args: dict[str, bool] = {}
        if not isinstance(nc_raw, Mapping):
            problems.error(file, f"{ipath}.nonConformance", "must be an object")
            nc_raw = {}
        for k, v in nc_raw.items():
            if k not in nc_fields or not isinstance(v, bool):
                problems.error(file, f"{ipath}.nonConformance.{k}", "unknown switch or not a boolean")
                continue
            nc_args[nc_fields[k]] = v
        verification = item.get("verification")
        if not isinstance(verification, Mapping):
            problems.error(file, f"{ipath}.verification", "required object")
            continue
        pem = next((verification[k] for k in _PEM_KEYS if isinstance(verification.get(k), str)), None)
        jwks = next((verification[k] for k in _JWKS_KEYS if isinstance(verification.get(k), str)), None)
        algorithms: tuple[str, ...] = ACCEPTED_JWT_ALGORITHMS
        if "algorithms" in verification:
            given = string_list(verification["algorithms"], file, f"{ipath}.verification.algorithms", problems)
            bad = [a for a in given if a not in ACCEPTED_JWT_ALGORITHMS]
            if bad:
                problems.error(
                    file, f"{ipath}.verification.algorithms", f"not accepted: {bad} (alg none is never allowed)"
                )
            algorithms = tuple(a for a in given if a in ACCEPTED_JWT_ALGORITHMS)
        if pem is None and jwks is None:
            # Member names are undocumented (reference §8.9): refuse this issuer, keep the rest working.
            problems.warn(
                file,
                f"{ipath}.verification",
                f"no key file understood (expected one of {_PEM_KEYS + _JWKS_KEYS}); issuer {iss!r} refused",
            )
            continue
        pem_path = resolve(config_dir, pem, ("oauth2/keys", "oauth2")) if pem else None
        jwks_path = resolve(config_dir, jwks, ("oauth2/jwks",)) if jwks else None
        for p in (pem_path, jwks_path):
            if p is not None and not p.is_file():
                problems.error(file, f"{ipath}.verification", f"key file not found: {p}")
        seen.add(iss)
        issuers.append(
            Issuer(
                iss=iss,
                aud=aud,
                roles=tuple(r for r in roles if r in known_roles and r != EVERYONE),
                authorization_claims=dict(claims),
                public_key_path=pem_path,
                jwks_path=jwks_path,
                algorithms=algorithms,
                non_conformance=NonConformance(**nc_args),
            )
        )
    return OAuth2Config(scope=scope, issuers=tuple(issuers))
