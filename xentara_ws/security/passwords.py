"""Password hashes of passwords.json: verification of the crypt formats, hashing, and updating the file."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from passlib.hash import md5_crypt, sha256_crypt, sha512_crypt  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

_argon2 = PasswordHasher()


class PasswordFileError(ValueError):
    """set_password could not update passwords.json (unknown user, unreadable files)."""


def _verify_bcrypt(password: bytes, hashed: str) -> bool:
    # passlib has no bcrypt backend of its own; the pyca `bcrypt` package is optional.
    try:
        import bcrypt
    except ImportError:
        logger.warning("bcrypt password hash found but the 'bcrypt' package is not installed")
        return False
    try:
        return bool(bcrypt.checkpw(password[:72], hashed.encode("ascii")))
    except ValueError:
        logger.warning("malformed bcrypt password hash")
        return False


def verify_password(password: str, hashed: str) -> bool:
    """True if `password` matches `hashed` ($6$, $5$, $1$, bcrypt $2a$/$2b$/$2y$, $argon2*$).

    An unknown or malformed hash is "no usable password": False and a warning (reference §3.2).
    """
    try:
        if hashed.startswith("$6$"):
            return bool(sha512_crypt.verify(password, hashed))
        if hashed.startswith("$5$"):
            return bool(sha256_crypt.verify(password, hashed))
        if hashed.startswith("$1$"):
            return bool(md5_crypt.verify(password, hashed))
        if hashed.startswith(("$2a$", "$2b$", "$2y$")):
            return _verify_bcrypt(password.encode("utf-8"), hashed)
        if hashed.startswith("$argon2"):
            try:
                return _argon2.verify(hashed, password)
            except VerifyMismatchError:
                return False
            except (InvalidHashError, VerificationError):
                logger.warning("malformed argon2 password hash")
                return False
    except ValueError:
        logger.warning("malformed password hash with prefix %r", hashed[:4])
        return False
    logger.warning("unsupported password hash format %r: treated as no usable password", hashed[:4])
    return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return str(sha512_crypt.hash("xentara-ws dummy password"))


def dummy_verify(password: str) -> None:
    """Spend about as long as a real $6$ verification, so unknown users cannot be told apart by timing."""
    sha512_crypt.verify(password, _dummy_hash())


def hash_password(password: str, scheme: str = "sha512_crypt") -> str:
    """A new hash: `sha512_crypt` (default: `$6$`, what the vendor's password tool writes) or `argon2id`.

    The vendor schema for passwords.json only accepts hashes with a `$<char>$` segment, and the vendor
    documents shadow(5)-style hashes only, so argon2 hashes are for files only xentara-ws reads.
    """
    if scheme == "argon2id":
        return _argon2.hash(password)
    if scheme == "sha512_crypt":
        return str(sha512_crypt.hash(password))
    raise ValueError(f"unknown password hash scheme {scheme!r} (argon2id, sha512_crypt)")


def _write_json_atomically(path: Path, document: object) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o600)  # hashes are secrets worth keeping from other local users
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _user_uuid(config_dir: Path, user: str) -> uuid.UUID:
    users_file = config_dir / "users.json"
    try:
        users = json.loads(users_file.read_text(encoding="utf-8")).get("users", [])
    except FileNotFoundError:
        raise PasswordFileError(f"{users_file}: not found, so user {user!r} is unknown") from None
    except (OSError, ValueError, AttributeError) as exc:
        raise PasswordFileError(f"{users_file}: cannot be read: {exc}") from None
    for entry in users if isinstance(users, list) else []:
        if isinstance(entry, dict) and entry.get("userName") == user:
            try:
                return uuid.UUID(str(entry.get("UUID")))
            except ValueError:
                raise PasswordFileError(f"{users_file}: user {user!r} has no valid UUID") from None
    raise PasswordFileError(f"{users_file}: no user named {user!r}; add the user there first")


def set_password(
    config_dir: str | os.PathLike[str], user: str, password: str | None, scheme: str = "sha512_crypt"
) -> None:
    """Set (or with password None remove) a user's hash in passwords.json, like the vendor's xentara-password tool.

    The file is rewritten atomically (temp file + rename); other entries are kept.
    """
    folder = Path(config_dir)
    user_uuid = _user_uuid(folder, user)
    path = folder / "passwords.json"
    document: dict[str, object] = {"$schema": "https://docs.xentara.io/xentara/schema-xentara-passwords.json"}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PasswordFileError(f"{path}: cannot be read: {exc}") from None
        if not isinstance(loaded, dict):
            raise PasswordFileError(f"{path}: must hold a JSON object")
        document = loaded
    # Keys are compared as UUIDs so an upper-case key written by hand is replaced, not duplicated.
    for key in [k for k in document if k != "$schema"]:
        try:
            if uuid.UUID(key) == user_uuid:
                del document[key]
        except ValueError:
            pass
    if password is not None:
        document[str(user_uuid)] = hash_password(password, scheme)
    _write_json_atomically(path, document)
    logger.info("%s password of user %r in %s", "set" if password is not None else "removed", user, path)
