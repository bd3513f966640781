"""Reading the folder's JSON files: problem collection, JSON paths, schema validation, path resolution."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .types import FILE_NAMES

logger = logging.getLogger("xentara_ws.security.config")

SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 §3.3 scope-token

UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class Problems:
    """Collects problems and warnings while loading, so that all are reported at once."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, file: str, path: str, message: str) -> None:
        self.errors.append(f"{file}: {path}: {message}")

    def warn(self, file: str, path: str, message: str) -> None:
        text = f"{file}: {path}: {message}"
        self.warnings.append(text)
        logger.warning("%s", text)


def json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def read_json(path: Path, problems: Problems) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.error(path.name, "$", f"not UTF-8 text ({exc})")
        return None
    except OSError as exc:
        problems.error(path.name, "$", f"cannot be read ({exc.strerror})")
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problems.error(path.name, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}")
        return None


def schema_validate(name: str, document: Any, schema_dir: Path, problems: Problems) -> None:
    import jsonschema  # type: ignore[import-untyped]

    schema_file = schema_dir / f"schema-xentara-{name}.json"
    if not schema_file.is_file():
        problems.warn(FILE_NAMES[name], "$", f"no vendor schema {schema_file} to validate against")
        return
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    for err in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        message = err.message
        if name == "passwords" and isinstance(err.instance, str):
            # jsonschema quotes the offending value; in passwords.json that is a password hash: never echo it.
            message = f"the password hash (not shown) fails the schema's {err.validator} {err.validator_value!r}"
            if err.validator == "pattern":
                message += "; write a hash the vendor accepts with `xentara-ws passwd USER --scheme sha512-crypt`"
        problems.error(FILE_NAMES[name], json_path(err.absolute_path), f"schema: {message}")


def resolve(config_dir: Path, value: str, subdirs: Sequence[str]) -> Path:
    """Absolute paths as is; relative ones tried under each subdir, then the folder itself (reference §1.3)."""
    given = Path(value)
    if given.is_absolute():
        return given
    candidates = [config_dir / sub / given for sub in subdirs] + [config_dir / given]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]


def is_uuid(value: Any) -> bool:
    return isinstance(value, str) and bool(UUID_TEXT.match(value))


def string_list(value: Any, file: str, path: str, problems: Problems) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.error(file, path, "must be an array of non-empty strings")
        return ()
    return tuple(value)


def normalise_hex(value: str) -> str:
    """Hex text without `:` or spaces, lower case (reference §6.2 [PROPOSAL])."""
    return value.replace(":", "").replace(" ", "").lower()


def object_root(doc: Any, file: str, problems: Problems) -> Mapping[str, Any]:
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        problems.error(file, "$", "the file must hold a JSON object")
        return {}
    return doc
