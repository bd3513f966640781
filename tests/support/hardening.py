"""Helpers of the hardening tests: answers that may come later, expensive password configs, raw sockets."""

from __future__ import annotations

import asyncio
import inspect
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from passlib.hash import sha512_crypt


def settled(result: Any) -> Any:
    """The dispatcher's answer, awaited on a fresh event loop when a handler answered asynchronously."""
    if not inspect.isawaitable(result):
        return result

    async def wait() -> Any:
        return await result

    return asyncio.run(wait())


OPERATOR = "operator"
OPERATOR_PASSWORD = "operator-pass"


def costly_config(tmp_path: Path, sample: Path, password: str, rounds: int = 200_000) -> Path:
    """The sample configuration with its user's password hashed expensively ($6$, `rounds`), like a
    production passwords.json: every verification (and every unknown user's dummy) costs real CPU time.
    A second user, OPERATOR (role-less: Everyone may connect), has OPERATOR_PASSWORD."""
    folder = tmp_path / "costly-config"
    shutil.copytree(sample, folder)
    for f in folder.iterdir():
        f.chmod(0o644)
    passwords = json.loads((folder / "passwords.json").read_text())
    for key in [k for k in passwords if k != "$schema"]:
        uuid.UUID(key)
        passwords[key] = sha512_crypt.using(rounds=rounds).hash(password)
    users = json.loads((folder / "users.json").read_text())
    operator_uuid = str(uuid.uuid4())
    users["users"].append({"userName": OPERATOR, "UUID": operator_uuid, "roles": []})
    passwords[operator_uuid] = sha512_crypt.using(rounds=rounds).hash(OPERATOR_PASSWORD)
    (folder / "users.json").write_text(json.dumps(users))
    (folder / "passwords.json").write_text(json.dumps(passwords))
    return folder
