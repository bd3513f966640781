"""The model format's structural rules: name and UUID patterns, element types and where each may be placed."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..element import Element

NAME_PATTERN = re.compile(r"^([^\[\.][^\.]*|\[[^\]]*\])$")
UUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SKILL_PATTERN = re.compile(r"^@Skill\.([A-Za-z0-9]+)\.([A-Za-z0-9]+)$")
V1_DESIGNATION = re.compile(r"^@(?:IOComponent|IoComponents|IOComponents|IO|Io|Microservice|Microservices)\.(.+)$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

BUILTIN_SKILLS = ("SignalProcessing", "SignalFlow", "SignalGenerator", "Debugging")
TOP_LEVEL = "top"
"""Placement class of the root and groups (reference 1.5)."""


@dataclass
class Node:
    designation: str
    props: dict[str, Any]
    path: str
    name: str
    uuid: uuid.UUID
    parent: Node | None
    key: str = ""
    children: list[Node] = field(default_factory=list)
    element: Element | None = None


def placement_of(designation: str) -> str:
    """Which children a type may hold (reference 1.5): top, track, sampler, generic, or none."""
    if designation == "@Group":
        return TOP_LEVEL
    if designation == "@Track":
        return "track"
    if designation == "@Skill.SignalGenerator.Sampler":
        return "sampler"
    match = SKILL_PATTERN.match(designation)
    if match is not None and match.group(1) not in BUILTIN_SKILLS:
        return "generic"
    return "none"


def allowed_in(container: str, designation: str) -> bool:
    generic = (match := SKILL_PATTERN.match(designation)) is not None and match.group(1) not in BUILTIN_SKILLS
    if container == "track":
        return designation in ("@Timer", "@Pipeline")
    if container == "sampler":
        return designation == "@Skill.SignalGenerator.Signal"
    if container == "generic":
        return generic
    if container == TOP_LEVEL:
        return designation not in ("@Pipeline", "@Skill.SignalGenerator.Signal")
    return False


CONTAINER_TEXT = {
    "track": "an execution track may only contain @Timer and @Pipeline elements",
    "sampler": "a signal generator sampler may only contain @Skill.SignalGenerator.Signal elements",
    "generic": "a plugin skill element may only contain elements of plugin skills",
    TOP_LEVEL: "@Pipeline belongs in a @Track and @Skill.SignalGenerator.Signal in a sampler",
}

BUILTIN_DESIGNATIONS = frozenset({"@Group", "@DataPoint", "@Timer", "@Track", "@Pipeline"})
