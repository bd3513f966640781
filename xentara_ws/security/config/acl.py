"""ACL objects of security.json, checked with the model's shared ACL shape check."""

from __future__ import annotations

from typing import Any

from ...model.acl import Acl, AclEntry
from ...model.acl import parse_acl as parse_acl_shape
from .json_files import Problems
from .types import ConfigurationError

__all__ = ["Acl", "AclEntry", "parse_acl"]


def parse_acl(raw: Any, file: str, path: str, problems: Problems | None = None) -> Acl:
    """An ACL object from security.json or model.json; shape errors are reported to `problems`.

    Without `problems`, any error raises ConfigurationError.
    """
    sink = problems if problems is not None else Problems()
    acl = parse_acl_shape(raw, path, lambda where, problem: sink.error(file, where, problem))
    if problems is None and sink.errors:
        raise ConfigurationError(sink.errors)
    return acl
