"""Phase 2 of loading: resolving the primary-key references between elements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..formats import split_key
from .paths import index_path, kind_of, member_path
from .rules import Node
from .state import BuildState


class ReferenceResolution(BuildState):
    """Resolves and checks every reference an element makes to another."""

    def resolve(self, key: Any, path: str, *, member: bool) -> Node | None:
        """The element a reference names; `member` references end in an attribute/event/task name."""
        if not isinstance(key, str):
            self.error(path, f"a reference must be a primary key string, not {kind_of(key)}")
            return None
        try:
            parts = split_key(key)
        except ValueError as exc:
            self.error(path, f"bad reference {key!r}: {exc}")
            return None
        if not member:
            node = self.by_key.get(".".join(parts))
            if node is not None:
                self.resolved[key] = node
                return node
        if len(parts) >= 2:
            node = self.by_key.get(".".join(parts[:-1]))
            if node is not None:
                if not member:
                    self.resolved[key] = node
                return node
        what = "element, attribute, event or task" if member else "element"
        self.error(path, f"dangling reference {key!r}: no such {what} in the model")
        return None

    def check_references(self) -> None:
        for node in self.nodes:
            props, path, d = node.props, node.path, node.designation
            if d == "@DataPoint":
                self.io_references(node)
            elif d == "@Skill.SignalProcessing.ConvertedValue":
                self.element_reference(props, "rawValue", path)
            elif d in ("@Skill.SignalProcessing.Bit", "@Skill.SignalProcessing.BitValue"):
                self.element_reference(props, "source", path)
            elif d == "@Skill.SignalFlow.EdgeDetection":
                self.element_reference(props, "value", path)
            elif d == "@Skill.SignalProcessing.SummaryState":
                states = props.get("states", [])
                for i, key in enumerate(states if isinstance(states, list) else []):
                    found = self.resolve(key, index_path(member_path(path, "states"), i), member=False)
                    if found is not None:
                        self.referenced.add(found.key)
            elif d == "@Pipeline":
                triggers = props.get("triggers", [])
                for i, key in enumerate(triggers if isinstance(triggers, list) else []):
                    self.resolve(key, index_path(member_path(path, "triggers"), i), member=True)
                segments = props.get("segments", [])
                for s, segment in enumerate(segments if isinstance(segments, list) else []):
                    tasks = segment.get("tasks", []) if isinstance(segment, dict) else []
                    for t, task in enumerate(tasks if isinstance(tasks, list) else []):
                        if isinstance(task, dict) and "function" in task:
                            task_path = member_path(
                                index_path(member_path(index_path(member_path(path, "segments"), s), "tasks"), t),
                                "function",
                            )
                            self.resolve(task["function"], task_path, member=True)
            elif d == "@Skill.SignalFlow.Bridge":
                connections = props.get("connections", [])
                for i, connection in enumerate(connections if isinstance(connections, list) else []):
                    if isinstance(connection, dict):
                        for end in ("source", "target", "errorHandler"):
                            if end in connection:
                                end_path = member_path(index_path(member_path(path, "connections"), i), end)
                                self.resolve(connection[end], end_path, member=True)
            elif d == "@Skill.Debugging.Inspector":
                attributes = props.get("attributes", [])
                for i, key in enumerate(attributes if isinstance(attributes, list) else []):
                    self.resolve(key, index_path(member_path(path, "attributes"), i), member=True)

    def element_reference(self, props: dict[str, Any], member: str, path: str) -> None:
        if member in props:
            found = self.resolve(props[member], member_path(path, member), member=False)
            if found is not None:
                self.referenced.add(found.key)

    def io_references(self, node: Node) -> None:
        io_path = member_path(node.path, "io")
        io = node.props.get("io")
        if io is None:
            self.error(node.path, 'a data point needs "io": the key of the skill data point it is attached to')
        elif isinstance(io, str):
            found = self.resolve(io, io_path, member=False)
            if found is not None:
                self.referenced.add(found.key)
        elif isinstance(io, dict):
            ends = [end for end in ("input", "output") if end in io]
            if not ends:
                self.error(io_path, 'io needs an "input" or an "output" (or both)')
            for end in ends:
                found = self.resolve(io[end], member_path(io_path, end), member=False)
                if found is not None:
                    self.referenced.add(found.key)
        else:
            self.error(io_path, f'io must be a key string or {{"input": ..., "output": ...}}, not {kind_of(io)}')


def resolved_key(by_key: Mapping[str, Node], key: str) -> str:
    parts = split_key(key)
    whole = ".".join(parts)
    return whole if whole in by_key else ".".join(parts[:-1])
