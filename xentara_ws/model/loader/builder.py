"""The model builder: runs the three loading phases in order and returns the model if nothing failed."""

from __future__ import annotations

import logging
from typing import Any

from ..skills import DataPoint
from ..tree import Model, make_root
from .elements import ElementConstruction
from .paths import kind_of, member_path
from .references import ReferenceResolution
from .rules import TOP_LEVEL, Node
from .structure import StructureChecks

logger = logging.getLogger("xentara_ws.model.loader")


class ModelBuilder(StructureChecks, ReferenceResolution, ElementConstruction):
    """Walks the JSON, collects every problem, and builds the element tree if there are none."""

    def build(self, data: Any) -> Model | None:
        if not isinstance(data, dict):
            self.error("$", f'the model must be a JSON object with a "children" array, not {kind_of(data)}')
            return None
        for member in data:
            if member not in ("$schema", "ACL", "children"):
                self.error(
                    member_path("$", member), "unknown member of the model root (allowed: $schema, ACL, children)"
                )
        acl = data.get("ACL")
        if acl is not None and not isinstance(acl, dict):
            self.error("$.ACL", f"an ACL must be an object, not {kind_of(acl)}")
        else:
            self.check_acl(acl, "$.ACL", "the model root")
        top: list[Node] = []
        children = data.get("children", [])
        if not isinstance(children, list):
            self.error("$.children", f"children must be an array, not {kind_of(children)}")
        else:
            top = self.walk(children, "$.children", None, TOP_LEVEL)
        self.index(top, "")
        for node in self.nodes:
            self.check_acl(node.props.get("ACL"), member_path(node.path, "ACL"), f"element {node.key}")
        self.check_references()
        if self.errors:
            return None
        root = make_root()
        root.acl = acl
        now = self.clock()
        for node in top:
            root.add_child(self.create(node, now))
        if self.errors:
            return None
        model = Model(root, clock=self.clock)
        self.attach_data_points(model)
        if self.errors:
            return None
        for element in model:
            if isinstance(element, DataPoint):
                element.set_display_name_default()
        logger.info("loaded model %s: %d elements", self.source, len(model))
        return model
