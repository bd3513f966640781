"""Loading Xentara model files (v2 format, v1 aliases) into a Model, with errors naming file and JSON path."""

from __future__ import annotations

import functools
import gc
import json
import logging
import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..protocol.codec import TimePoint
from ..protocol.identifiers import NIL_UUID, ElementCategory
from .acl import parse_acl
from .element import Element
from .formats import parse_interval, split_key
from .skills import ConfigError, DataPoint, DebugLogger, Register, Sampler, Signal, make_skill_element
from .tree import Model, make_root, wall_clock

logger = logging.getLogger(__name__)

SCHEMA_ENV = "XENTARA_MODEL_SCHEMA"
"""Environment variable naming the vendor's schema-xentara-model.json, used when given."""

NAME_PATTERN = re.compile(r"^([^\[\.][^\.]*|\[[^\]]*\])$")
UUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SKILL_PATTERN = re.compile(r"^@Skill\.([A-Za-z0-9]+)\.([A-Za-z0-9]+)$")
_V1_DESIGNATION = re.compile(r"^@(?:IOComponent|IoComponents|IOComponents|IO|Io|Microservice|Microservices)\.(.+)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

BUILTIN_SKILLS = ("SignalProcessing", "SignalFlow", "SignalGenerator", "Debugging")
TOP_LEVEL = "top"
"""Placement class of the root and groups (reference 1.5)."""


class ModelError(ValueError):
    """A model file that cannot be loaded; `errors` lists every problem found, one line each."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        if len(errors) == 1:
            message = errors[0]
        else:
            message = f"{len(errors)} problems in model file {source}:\n  " + "\n  ".join(errors)
        super().__init__(message)


def load_model(
    path: str | os.PathLike[str],
    *,
    schema_path: str | os.PathLike[str] | None = None,
    clock: Callable[[], TimePoint] | None = None,
) -> Model:
    """Load and validate a model file; raises ModelError naming the file, JSON path and problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(source, [f"{source}: cannot read the model file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ModelError(source, [f"{source}: the model file is not UTF-8 text: {exc.reason}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(source, [f"{source}: line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"]) from None
    return load_model_data(data, source=source, schema_path=schema_path, clock=clock)


def load_model_data(
    data: Any,
    *,
    source: str = "<model>",
    schema_path: str | os.PathLike[str] | None = None,
    clock: Callable[[], TimePoint] | None = None,
) -> Model:
    """Build a Model from already parsed JSON; `source` names it in error messages."""
    errors: list[str] = []
    schema_file = schema_path if schema_path is not None else os.environ.get(SCHEMA_ENV)
    if schema_file:
        errors += schema_errors(data, schema_file, source)
    builder = _Builder(source, clock or wall_clock)
    # Loading allocates hundreds of thousands of long-lived objects and frees almost none: the
    # collector's passes over them would cost about half the start-up of a large model.
    collecting = gc.isenabled()
    gc.disable()
    try:
        model = builder.build(data)
    finally:
        if collecting:
            gc.enable()
    errors += builder.errors
    if errors or model is None:
        raise ModelError(source, list(dict.fromkeys(errors)))
    model.path = source
    return model


def schema_errors(data: Any, schema_path: str | os.PathLike[str], source: str) -> list[str]:
    """Problems the vendor's JSON schema finds, each as `file: JSON path: problem`."""
    import jsonschema  # type: ignore[import-untyped]

    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    out: list[str] = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        # A oneOf over element types says only "not valid under any"; the deepest sub-errors say why.
        for leaf in _deepest(error):
            message = leaf.message if len(leaf.message) <= 200 else leaf.message[:197] + "..."
            out.append(f"{source}: {json_path(leaf.absolute_path)}: {message} (schema)")
    return list(dict.fromkeys(out))


def _deepest(error: Any) -> list[Any]:
    leaves: list[Any] = []
    stack = [error]
    while stack:
        current = stack.pop()
        if current.context:
            stack.extend(current.context)
        else:
            leaves.append(current)
    depth = max(len(leaf.absolute_path) for leaf in leaves)
    return [leaf for leaf in leaves if len(leaf.absolute_path) == depth]


def json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path = _index(path, part) if isinstance(part, int) else _member(path, str(part))
    return path


def _member(path: str, name: str) -> str:
    return path + _member_suffix(name)


@functools.lru_cache(maxsize=1024)  # the same few member names and designations, 100,000 times in a big model
def _member_suffix(name: str) -> str:
    return f".{name}" if name.isidentifier() else f"[{json.dumps(name, ensure_ascii=False)}]"


def _index(path: str, i: int) -> str:
    return f"{path}[{i}]"


@dataclass
class _Node:
    designation: str
    props: dict[str, Any]
    path: str
    name: str
    uuid: uuid.UUID
    parent: _Node | None
    key: str = ""
    children: list[_Node] = field(default_factory=list)
    element: Element | None = None


def _placement(designation: str) -> str:
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


def _allowed_in(container: str, designation: str) -> bool:
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


_CONTAINER_TEXT = {
    "track": "an execution track may only contain @Timer and @Pipeline elements",
    "sampler": "a signal generator sampler may only contain @Skill.SignalGenerator.Signal elements",
    "generic": "a plugin skill element may only contain elements of plugin skills",
    TOP_LEVEL: "@Pipeline belongs in a @Track and @Skill.SignalGenerator.Signal in a sampler",
}

BUILTIN_DESIGNATIONS = frozenset({"@Group", "@DataPoint", "@Timer", "@Track", "@Pipeline"})


class _Builder:
    """Walks the JSON, collects every problem, and builds the element tree if there are none."""

    def __init__(self, source: str, clock: Callable[[], TimePoint]) -> None:
        self.source = source
        self.clock = clock
        self.errors: list[str] = []
        self.nodes: list[_Node] = []
        self.by_uuid: dict[uuid.UUID, str] = {}
        self.by_key: dict[str, _Node] = {}
        self.referenced: set[str] = set()
        self.resolved: dict[str, _Node] = {}
        """Element references already resolved (key as written -> element), reused when attaching."""

    def error(self, path: str, problem: str) -> None:
        self.errors.append(f"{self.source}: {path}: {problem}")

    # -- phase 1: structure ------------------------------------------------------------------

    def build(self, data: Any) -> Model | None:
        if not isinstance(data, dict):
            self.error("$", f'the model must be a JSON object with a "children" array, not {_kind(data)}')
            return None
        for member in data:
            if member not in ("$schema", "ACL", "children"):
                self.error(_member("$", member), "unknown member of the model root (allowed: $schema, ACL, children)")
        acl = data.get("ACL")
        if acl is not None and not isinstance(acl, dict):
            self.error("$.ACL", f"an ACL must be an object, not {_kind(acl)}")
        else:
            self.check_acl(acl, "$.ACL", "the model root")
        top: list[_Node] = []
        children = data.get("children", [])
        if not isinstance(children, list):
            self.error("$.children", f"children must be an array, not {_kind(children)}")
        else:
            top = self.walk(children, "$.children", None, TOP_LEVEL)
        self.index(top, "")
        for node in self.nodes:
            self.check_acl(node.props.get("ACL"), _member(node.path, "ACL"), f"element {node.key}")
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

    def check_acl(self, acl: Any, path: str, owner: str) -> None:
        """Malformed ACLs fail the load, rather than the first client request touching the element."""
        if acl is not None:
            parse_acl(acl, path, lambda where, problem: self.error(where, f"ACL of {owner}: {problem}"))

    def walk(self, items: list[Any], path: str, parent: _Node | None, container: str) -> list[_Node]:
        nodes = []
        names: dict[str, str] = {}
        for i, item in enumerate(items):
            item_path = _index(path, i)
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

    def element_block(self, item: Any, path: str, parent: _Node | None, container: str) -> _Node | None:
        if not isinstance(item, dict):
            self.error(path, f'a child element must be an object like {{"@Group": {{...}}}}, not {_kind(item)}')
            return None
        if len(item) != 1:
            self.error(
                path,
                f'an element block must have exactly one member, its type (e.g. "@Group"); found {len(item)}',
            )
            return None
        designation, props = next(iter(item.items()))
        block_path = _member(path, designation)
        designation = self.designation(designation, path)
        if designation is None:
            return None
        if not isinstance(props, dict):
            self.error(block_path, f"the properties of {designation} must be an object, not {_kind(props)}")
            return None
        if not _allowed_in(container, designation):
            self.error(path, f"{designation} is not allowed here: {_CONTAINER_TEXT.get(container, 'bad placement')}")
        name = self.name(props, block_path)
        element_uuid = self.element_uuid(props, block_path)
        if name is None or element_uuid is None:
            return None
        node = _Node(designation, props, block_path, name, element_uuid, parent)
        self.nodes.append(node)
        if "children" in props:
            children_path = _member(block_path, "children")
            placement = _placement(designation)
            if placement == "none":
                self.error(children_path, f"{designation} elements cannot have children")
            elif not isinstance(props["children"], list):
                self.error(children_path, f"children must be an array, not {_kind(props['children'])}")
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
        v1 = _V1_DESIGNATION.match(designation)
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
        name_path = _member(path, "name")
        if not isinstance(name, str):
            self.error(name_path, f"the name must be a string, not {_kind(name)}")
            return None
        if not name:
            self.error(name_path, "the name must not be empty")
            return None
        if _CONTROL.search(name):
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
        uuid_path = _member(path, "UUID")
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

    def index(self, nodes: list[_Node], prefix: str) -> None:
        for node in nodes:
            node.key = prefix + node.name
            self.by_key.setdefault(node.key, node)
            self.index(node.children, node.key + ".")

    # -- phase 2: references -----------------------------------------------------------------

    def resolve(self, key: Any, path: str, *, member: bool) -> _Node | None:
        """The element a reference names; `member` references end in an attribute/event/task name."""
        if not isinstance(key, str):
            self.error(path, f"a reference must be a primary key string, not {_kind(key)}")
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
                    found = self.resolve(key, _index(_member(path, "states"), i), member=False)
                    if found is not None:
                        self.referenced.add(found.key)
            elif d == "@Pipeline":
                triggers = props.get("triggers", [])
                for i, key in enumerate(triggers if isinstance(triggers, list) else []):
                    self.resolve(key, _index(_member(path, "triggers"), i), member=True)
                segments = props.get("segments", [])
                for s, segment in enumerate(segments if isinstance(segments, list) else []):
                    tasks = segment.get("tasks", []) if isinstance(segment, dict) else []
                    for t, task in enumerate(tasks if isinstance(tasks, list) else []):
                        if isinstance(task, dict) and "function" in task:
                            task_path = _member(
                                _index(_member(_index(_member(path, "segments"), s), "tasks"), t), "function"
                            )
                            self.resolve(task["function"], task_path, member=True)
            elif d == "@Skill.SignalFlow.Bridge":
                connections = props.get("connections", [])
                for i, connection in enumerate(connections if isinstance(connections, list) else []):
                    if isinstance(connection, dict):
                        for end in ("source", "target", "errorHandler"):
                            if end in connection:
                                end_path = _member(_index(_member(path, "connections"), i), end)
                                self.resolve(connection[end], end_path, member=True)
            elif d == "@Skill.Debugging.Inspector":
                attributes = props.get("attributes", [])
                for i, key in enumerate(attributes if isinstance(attributes, list) else []):
                    self.resolve(key, _index(_member(path, "attributes"), i), member=True)

    def element_reference(self, props: dict[str, Any], member: str, path: str) -> None:
        if member in props:
            found = self.resolve(props[member], _member(path, member), member=False)
            if found is not None:
                self.referenced.add(found.key)

    def io_references(self, node: _Node) -> None:
        io_path = _member(node.path, "io")
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
                found = self.resolve(io[end], _member(io_path, end), member=False)
                if found is not None:
                    self.referenced.add(found.key)
        else:
            self.error(io_path, f'io must be a key string or {{"input": ..., "output": ...}}, not {_kind(io)}')

    # -- phase 3: elements -------------------------------------------------------------------

    def create(self, node: _Node, now: TimePoint) -> Element:
        element = self.make(node, now)
        node.element = element
        for child in node.children:
            element.add_child(self.create(child, now))
        return element

    def make(self, node: _Node, now: TimePoint) -> Element:
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
                _check_timer(props)
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
            self.error(_member(node.path, exc.member) if exc.member else node.path, str(exc))
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
                self.error(_member(node.path, "io"), "io reference cycle between data points")
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
                    found = self.by_key[_resolved_key(self.by_key, key)]
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
                    self.error(_member(node.path, "io"), f"{io!r} has no value to attach to")
                    return
                input_element = input_element if spec.access.readable else None
                output_element = output_element if spec.access.writable else None
            else:
                for end, target in targets.items():
                    if target is not None and 11 not in target.attributes:
                        self.error(
                            _member(_member(node.path, "io"), end),
                            f"{target.primary_key!r} has no value to attach to",
                        )
                        return
            try:
                point.attach(input_element, output_element)
            except ConfigError as exc:
                self.error(_member(node.path, "io"), str(exc))

        for element in model:
            if isinstance(element, DataPoint):
                attach(element, ())


def _check_timer(props: Mapping[str, Any]) -> None:
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


def _resolved_key(by_key: Mapping[str, _Node], key: str) -> str:
    parts = split_key(key)
    whole = ".".join(parts)
    return whole if whole in by_key else ".".join(parts[:-1])


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return type(value).__name__
