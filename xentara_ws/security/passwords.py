"""Password hashes of passwords.json: verification of the crypt formats, hashing, and updating the file."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import secrets
import uuid
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
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
        logger.warning("malformed password hash of scheme %s", hash_scheme(hashed))
        return False
    logger.warning("unsupported password hash format (%s): treated as no usable password", hash_scheme(hashed))
    return False


_SCHEME = re.compile(r"\$([a-z0-9-]{1,16})\$")


def hash_scheme(hashed: str) -> str:
    """What kind of hash this is, safe to log: `$6$`, `$argon2id$` ... or "not a crypt hash".

    Never a slice of the value: a plaintext password written into passwords.json by mistake must
    not reach the log, not even its first characters.
    """
    match = _SCHEME.match(hashed)
    return f"${match.group(1)}$" if match else "not a crypt hash"


def cost_parameters(hashed: str) -> str | None:
    """The scheme and cost part of a hash (everything but salt and digest), or None if unknown.

    Two hashes with the same cost parameters take the same time to verify.
    """
    if hashed.startswith(("$6$", "$5$")):
        parts = hashed.split("$")
        rounds = parts[2] if len(parts) > 3 and parts[2].startswith("rounds=") else "rounds=5000"
        return f"{hashed[:3]}{rounds}"
    if hashed.startswith("$1$"):
        return "$1$"
    if hashed.startswith(("$2a$", "$2b$", "$2y$")):
        return hashed[:6]  # $2b$12
    if hashed.startswith("$argon2"):
        parts = hashed.split("$")
        return "$".join(parts[:4]) if len(parts) >= 6 else None
    return None


@lru_cache(maxsize=8)
def dummy_hash(cost: str | None) -> str:
    """A hash of a random password with the given cost parameters (see cost_parameters)."""
    secret = secrets.token_urlsafe(16)
    try:
        if cost is not None and cost.startswith(("$6$", "$5$")):
            rounds = int(cost[3:].removeprefix("rounds="))
            handler = sha512_crypt if cost.startswith("$6$") else sha256_crypt
            return str(handler.using(rounds=rounds).hash(secret))
        if cost == "$1$":
            return str(md5_crypt.hash(secret))
        if cost is not None and cost.startswith("$2"):
            import bcrypt

            return str(bcrypt.hashpw(secret.encode(), bcrypt.gensalt(int(cost[4:]), cost[1:3].encode())).decode())
        if cost is not None and cost.startswith("$argon2"):
            fields = dict(item.split("=", 1) for item in cost.split("$")[3].split(","))
            variant = cost.split("$")[1]
            hasher = PasswordHasher(
                time_cost=int(fields["t"]),
                memory_cost=int(fields["m"]),
                parallelism=int(fields["p"]),
                type={"argon2id": Type.ID, "argon2i": Type.I, "argon2d": Type.D}[variant],
            )
            return hasher.hash(secret)
    except (ImportError, ValueError, KeyError, IndexError):
        logger.warning("cannot build a dummy hash like the configured ones (%s); using $6$", cost)
    return str(sha512_crypt.hash(secret))


def typical_cost(hashes: Iterable[str]) -> str | None:
    """The most common cost parameters among the configured hashes (what an unknown user should cost)."""
    counts = Counter(c for c in map(cost_parameters, hashes) if c is not None)
    return counts.most_common(1)[0][0] if counts else None


def dummy_verify(password: str, cost: str | None = None) -> None:
    """Spend as long as verifying a real hash with these cost parameters, so unknown users cannot be
    told apart by timing."""
    verify_password(password, dummy_hash(cost))


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


def _temp_path(path: Path) -> Path:
    # One fixed name, only ever used under the lock: a temp file a crash left behind is found
    # and removed by the next run instead of lying around with every hash in it.
    return path.with_name(f".{path.name}.tmp")


def _write_json_atomically(path: Path, document: object) -> None:
    """Write a temp file (mode 0600) beside `path` and rename it over `path`; call under the file's lock."""
    tmp = _temp_path(path)
    tmp.unlink(missing_ok=True)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # hashes are secrets
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # the rename itself must survive a power cut
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


class _FileLock:
    """An exclusive `fcntl.flock` on `<file>.lock` beside the file: read-modify-write cycles of
    concurrent runs (two `xentara-ws passwd` at once) follow one another instead of losing updates."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(f".{path.stem}.lock")  # .passwords.lock
        self.fd = -1

    def __enter__(self) -> _FileLock:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


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

    The file is read, changed and rewritten (temp file + rename, mode 0600) under an exclusive lock
    on `.passwords.lock`, so concurrent runs never lose each other's change; other entries are kept.
    """
    folder = Path(config_dir)
    user_uuid = _user_uuid(folder, user)
    path = folder / "passwords.json"
    with _FileLock(path):
        _update_password(path, user_uuid, password, scheme)
    logger.info("%s password of user %r in %s", "set" if password is not None else "removed", user, path)


def _update_password(path: Path, user_uuid: uuid.UUID, password: str | None, scheme: str) -> None:
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
