"""Phase 1 of loading: walking the element tree, checking names, UUIDs, types, placement and ACLs."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from ...protocol.identifiers import NIL_UUID
from ..acl import parse_acl
from .paths import index_path, kind_of, member_path
from .rules import (
    BUILTIN_DESIGNATIONS,
    CONTAINER_TEXT,
    CONTROL_CHARACTERS,
    NAME_PATTERN,
    SKILL_PATTERN,
    UUID_PATTERN,
    V1_DESIGNATION,
    Node,
    allowed_in,
    placement_of,
)
from .state import BuildState

logger = logging.getLogger("xentara_ws.model.loader")


class StructureChecks(BuildState):
    """Walks the JSON element blocks into nodes, reporting every structural problem."""

    def check_acl(self, acl: Any, path: str, owner: str) -> None:
        """Malformed ACLs fail the load, rather than the first client request touching the element."""
        if acl is not None:
            parse_acl(acl, path, lambda where, problem: self.error(where, f"ACL of {owner}: {problem}"))

    def walk(self, items: list[Any], path: str, parent: Node | None, container: str) -> list[Node]:
        nodes = []
        names: dict[str, str] = {}
        for i, item in enumerate(items):
            item_path = index_path(path, i)
            node = self.element_block(item, item_path, parent, container)
            if node is None:
                continue
            if node.name in names:
                self.error(
                    item_path,
                    f"duplicate name {node.name!r}: a sibling at {names[node.name]} has the same name",
                )
            else:
                names[node.name] = item_path
            nodes.append(node)
        return nodes

    def element_block(self, item: Any, path: str, parent: Node | None, container: str) -> Node | None:
        if not isinstance(item, dict):
            self.error(path, f'a child element must be an object like {{"@Group": {{...}}}}, not {kind_of(item)}')
            return None
        if len(item) != 1:
            self.error(
                path,
                f'an element block must have exactly one member, its type (e.g. "@Group"); found {len(item)}',
            )
            return None
        designation, props = next(iter(item.items()))
        block_path = member_path(path, designation)
        designation = self.designation(designation, path)
        if designation is None:
            return None
        if not isinstance(props, dict):
            self.error(block_path, f"the properties of {designation} must be an object, not {kind_of(props)}")
            return None
        if not allowed_in(container, designation):
            self.error(path, f"{designation} is not allowed here: {CONTAINER_TEXT.get(container, 'bad placement')}")
        name = self.name(props, block_path)
        element_uuid = self.element_uuid(props, block_path)
        if name is None or element_uuid is None:
            return None
        node = Node(designation, props, block_path, name, element_uuid, parent)
        self.nodes.append(node)
        if "children" in props:
            children_path = member_path(block_path, "children")
            placement = placement_of(designation)
            if placement == "none":
                self.error(children_path, f"{designation} elements cannot have children")
            elif not isinstance(props["children"], list):
                self.error(children_path, f"children must be an array, not {kind_of(props['children'])}")
            else:
                node.children = self.walk(props["children"], children_path, node, placement)
        return node

    def designation(self, designation: str, path: str) -> str | None:
        if not designation.startswith("@"):
            self.error(
                path,
                f"{designation!r} is not an element type: element types start with @ "
                '(e.g. "@Group", "@Skill.SignalFlow.Register")',
            )
            return None
        v1 = V1_DESIGNATION.match(designation)
        if v1 is not None:
            logger.warning(
                "%s: %s: legacy designation %s read as @Skill.%s", self.source, path, designation, v1.group(1)
            )
            designation = "@Skill." + v1.group(1)
        if designation in BUILTIN_DESIGNATIONS or SKILL_PATTERN.match(designation):
            return designation
        self.error(
            path,
            f"unknown element type {designation!r} (expected @Group, @DataPoint, @Timer, @Track, "
            "@Pipeline or @Skill.<Skill>.<Type>)",
        )
        return None

    def name(self, props: dict[str, Any], path: str) -> str | None:
        name = props.get("name")
        if name is None and "id" in props:
            logger.warning('%s: %s: legacy member "id" used as the name', self.source, path)
            name = props["id"]
        if name is None:
            self.error(path, 'missing "name"')
            return None
        name_path = member_path(path, "name")
        if not isinstance(name, str):
            self.error(name_path, f"the name must be a string, not {kind_of(name)}")
            return None
        if not name:
            self.error(name_path, "the name must not be empty")
            return None
        if CONTROL_CHARACTERS.search(name):
            self.error(name_path, f"the name {name!r} contains a control character")
            return None
        if not NAME_PATTERN.match(name):
            self.error(
                name_path,
                f"bad name {name!r}: a name cannot contain a period unless it is written "
                'entirely in square brackets, like "[v1.2]"',
            )
            return None
        return name

    def element_uuid(self, props: dict[str, Any], path: str) -> uuid.UUID | None:
        text = props.get("UUID")
        if text is None and "uuid" in props:
            logger.warning('%s: %s: legacy member "uuid" used as the UUID', self.source, path)
            text = props["uuid"]
        if text is None:
            self.error(path, 'missing "UUID"')
            return None
        uuid_path = member_path(path, "UUID")
        if not isinstance(text, str) or not UUID_PATTERN.match(text):
            self.error(uuid_path, f"bad UUID {text!r}: expected the text form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
            return None
        value = uuid.UUID(text)
        if value == NIL_UUID:
            self.error(uuid_path, "the nil UUID is reserved for the root element")
            return None
        if value in self.by_uuid:
            self.error(uuid_path, f"duplicate UUID {text}: already used at {self.by_uuid[value]}")
            return None
        self.by_uuid[value] = path
        return value

    def index(self, nodes: list[Node], prefix: str) -> None:
        for node in nodes:
            node.key = prefix + node.name
            self.by_key.setdefault(node.key, node)
            self.index(node.children, node.key + ".")
