"""Phase 3 of loading: building the elements from checked nodes and attaching data points to their io."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...protocol.codec import TimePoint
from ...protocol.identifiers import ElementCategory
from ..element import Element
from ..formats import parse_interval
from ..skills import ConfigError, DataPoint, DebugLogger, Register, Sampler, Signal, make_skill_element
from ..tree import Model
from .paths import member_path
from .references import resolved_key
from .rules import Node
from .state import BuildState


class ElementConstruction(BuildState):
    """Makes the element objects once the structure and references are known to be sound."""

    def create(self, node: Node, now: TimePoint) -> Element:
        element = self.make(node, now)
        node.element = element
        for child in node.children:
            element.add_child(self.create(child, now))
        return element

    def make(self, node: Node, now: TimePoint) -> Element:
        d, props = node.designation, node.props
        common: dict[str, Any] = {"name": node.name, "element_uuid": node.uuid, "acl": props.get("ACL")}
        try:
            if d == "@Skill.SignalGenerator.Sampler":
                return Sampler(config=props, **common)
            if d == "@Skill.SignalGenerator.Signal":
                return Signal(config=props, **common)
            if d == "@Skill.SignalFlow.Register":
                return Register(config=props, **common)
            if d == "@DataPoint":
                return DataPoint(config=props, **common)
            if d == "@Timer":
                check_timer(props)
            if d == "@Skill.Debugging.Logger":
                return DebugLogger(config=props, **common)
            return make_skill_element(
                d,
                props,
                referenced=node.key in self.referenced,
                child_types=[c.designation for c in node.children],
                now=now,
                **common,
            )
        except ConfigError as exc:
            self.error(member_path(node.path, exc.member) if exc.member else node.path, str(exc))
            # A placeholder keeps the walk going so that every problem is reported at once.
            return Element(
                name=node.name,
                element_uuid=node.uuid,
                model_type=d,
                type_name="",
                category=ElementCategory.ROOT_ELEMENT,
            )

    def attach_data_points(self, model: Model) -> None:
        done: set[int] = set()
        nodes = {id(n.element): n for n in self.nodes if n.element is not None}

        def attach(point: DataPoint, chain: tuple[int, ...]) -> None:
            if id(point) in done:
                return
            node = nodes[id(point)]
            if id(point) in chain:
                self.error(member_path(node.path, "io"), "io reference cycle between data points")
                done.add(id(point))
                return
            io = node.props["io"]
            ends = {"input": io, "output": io} if isinstance(io, str) else io
            targets: dict[str, Element | None] = {}
            for end in ("input", "output"):
                key = ends.get(end)
                if key is None:
                    targets[end] = None
                    continue
                found = self.resolved.get(key)
                if found is None:
                    found = self.by_key[resolved_key(self.by_key, key)]
                target = found.element
                if isinstance(target, DataPoint):
                    attach(target, (*chain, id(point)))
                targets[end] = target
            done.add(id(point))
            string_io = isinstance(io, str)
            input_element, output_element = targets["input"], targets["output"]
            if string_io:
                # One point for both directions: use whichever directions it supports.
                spec = input_element.attributes.get(11) if input_element is not None else None
                if spec is None:
                    self.error(member_path(node.path, "io"), f"{io!r} has no value to attach to")
                    return
                input_element = input_element if spec.access.readable else None
                output_element = output_element if spec.access.writable else None
            else:
                for end, target in targets.items():
                    if target is not None and 11 not in target.attributes:
                        self.error(
                            member_path(member_path(node.path, "io"), end),
                            f"{target.primary_key!r} has no value to attach to",
                        )
                        return
            try:
                point.attach(input_element, output_element)
            except ConfigError as exc:
                self.error(member_path(node.path, "io"), str(exc))

        for element in model:
            if isinstance(element, DataPoint):
                attach(element, ())


def check_timer(props: Mapping[str, Any]) -> None:
    """A timer needs a positive period; its offset may be negative (reference 3.3)."""
    if "period" not in props:
        raise ConfigError('a timer needs a "period", e.g. "500ms"')
    for member in ("period", "offset"):
        if member in props:
            try:
                ns = parse_interval(props[member])
            except ValueError as exc:
                raise ConfigError(str(exc), member) from None
            if member == "period" and ns <= 0:
                raise ConfigError("the timer period must be positive", member)
