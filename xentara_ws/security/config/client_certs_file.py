"""Validation of client-certs.json: trusted roots and certificate rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .json_files import Problems, normalise_hex, resolve, string_list
from .types import EVERYONE, FILE_NAMES, CertificateRule, ClientCertsConfig, RootCertificate


def hex_member(
    item: Mapping[str, Any],
    key: str,
    file: str,
    ipath: str,
    problems: Problems,
    lengths: tuple[int, ...] | None = None,
) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.error(file, f"{ipath}.{key}", "must be a string")
        return None
    norm = normalise_hex(value)
    if not norm or not re.fullmatch(r"[0-9a-f]+", norm) or (lengths is not None and len(norm) not in lengths):
        problems.error(file, f"{ipath}.{key}", f"not a valid hex value: {value!r}")
        return None
    return norm


def load_client_certs(
    doc: Mapping[str, Any], config_dir: Path, known_roles: frozenset[str], problems: Problems
) -> ClientCertsConfig:
    file = FILE_NAMES["client-certs"]
    rules: list[CertificateRule] = []
    raw_rules = doc.get("rules")
    if raw_rules is not None and not isinstance(raw_rules, list):
        problems.error(file, "$.rules", "must be an array")
        raw_rules = None
    trust_members = {
        "issuer",
        "subject",
        "subjectPrefix",
        "serialNumber",
        "SKI",
        "publicKeySHA256",
        "publicKeySHA1",
        "NTDSObjectSID",
    }
    for i, item in enumerate(raw_rules or []):
        ipath = f"$.rules[{i}]"
        if not isinstance(item, Mapping):
            problems.error(file, ipath, "must be an object")
            continue
        roles = string_list(item.get("roles"), file, f"{ipath}.roles", problems)
        for j, r in enumerate(roles):
            if r not in known_roles:
                problems.warn(file, f"{ipath}.roles[{j}]", f"undefined role {r!r} ignored")
        roles = tuple(r for r in roles if r in known_roles and r != EVERYONE)
        members = set(item) - {"roles"}
        kinds = [k for k in ("fingerprint", "certificatePath", "issuer") if k in members]
        if len(kinds) != 1:
            problems.error(file, ipath, "a rule needs exactly one of fingerprint, certificatePath or issuer")
            continue
        allowed = (
            {"fingerprint"}
            if kinds[0] == "fingerprint"
            else {"certificatePath"}
            if kinds[0] == "certificatePath"
            else trust_members
        )
        unknown = members - allowed
        if unknown:
            problems.error(file, ipath, f"members not allowed in this kind of rule: {sorted(unknown)}")
            continue
        if kinds[0] == "fingerprint":
            fp = hex_member(item, "fingerprint", file, ipath, problems, (40, 64))
            if fp:
                rules.append(CertificateRule(kind="fingerprint", roles=roles, fingerprint=fp))
        elif kinds[0] == "certificatePath":
            value = item["certificatePath"]
            if not isinstance(value, str) or not value:
                problems.error(file, f"{ipath}.certificatePath", "must be a non-empty string")
                continue
            path = resolve(config_dir, value, ("certs",))
            if not path.is_file():
                problems.error(file, f"{ipath}.certificatePath", f"file not found: {path}")
                continue
            rules.append(CertificateRule(kind="certificate", roles=roles, certificate_path=path))
        else:
            strs = {}
            for k in ("issuer", "subject", "subjectPrefix", "NTDSObjectSID"):
                v = item.get(k)
                if v is not None and (not isinstance(v, str) or not v):
                    problems.error(file, f"{ipath}.{k}", "must be a non-empty string")
                    v = None
                strs[k] = v
            if strs["issuer"] is None:
                continue
            rules.append(
                CertificateRule(
                    kind="trust",
                    roles=roles,
                    issuer=strs["issuer"],
                    subject=strs["subject"],
                    subject_prefix=strs["subjectPrefix"],
                    ntds_object_sid=strs["NTDSObjectSID"],
                    serial_number=hex_member(item, "serialNumber", file, ipath, problems),
                    ski=hex_member(item, "SKI", file, ipath, problems),
                    public_key_sha256=hex_member(item, "publicKeySHA256", file, ipath, problems, (64,)),
                    public_key_sha1=hex_member(item, "publicKeySHA1", file, ipath, problems, (40,)),
                )
            )
    roots: list[RootCertificate] = []
    raw_roots = doc.get("rootCertificates")
    if raw_roots is not None and not isinstance(raw_roots, list):
        problems.error(file, "$.rootCertificates", "must be an array")
        raw_roots = None
    for i, item in enumerate(raw_roots or []):
        ipath = f"$.rootCertificates[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("certificatePath"), str):
            problems.error(file, ipath, "needs a certificatePath string")
            continue
        path = resolve(config_dir, item["certificatePath"], ("certs",))
        if not path.is_file():
            problems.error(file, f"{ipath}.certificatePath", f"file not found: {path}")
            continue
        issuer = item.get("issuer")
        roots.append(RootCertificate(issuer if isinstance(issuer, str) else None, path))
    return ClientCertsConfig(rules=tuple(rules), root_certificates=tuple(roots))
