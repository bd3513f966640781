"""The small JSON language of `vectors.json`: request templates and reply patterns.

Requests ("templates"): JSON values, where an object whose keys are all decimal integers is a CBOR
map with integer keys, and objects with one `$` key build what JSON lacks:
`{"$uuid": "…"}`, `{"$tag": n, "value": v}`, `{"$bytes": "hex"}`, `{"$float": "Infinity"}`,
`{"$var": name}` (a value found by discovery or bound by an earlier step) and
`{"$new_uuid": name}` (a fresh random UUID, also bound to name).

Replies ("patterns"): literals match exactly (type included: 1 is not 1.0 nor true); arrays match
element by element; integer-keyed objects match maps with exactly those keys. Special objects:
`$any`, `$uint` (optionally `[min, max]`), `$int`, `$text`, `$bool`, `$number`, `$bytes`, `$uuid` (any
UUID or a literal), `$var`, `$bind` (anything, remembered under a name), `$tag` + `value`,
`$timestamp` (`"ns"`: exactly `1001({4: 4([-9, int])})`), `$error` (a code or a list of codes: the
map `{0: code, 1: text}`), `$map` + `open` (a map with at least these keys), `$array_of` + `min`/`max`,
`$one_of` (any of the patterns), `$not_error` (anything but an error packet: used in batches).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from ..protocol.diagnostic import Tagged
from .edn import render

Variables = dict[str, Any]


class PatternError(ValueError):
    """The vector itself is malformed (a bug in the vector file, not in the server)."""


def _int_keys(obj: Mapping[str, Any]) -> bool:
    return bool(obj) and all(_is_int_text(k) for k in obj)


def _is_int_text(key: str) -> bool:
    return key.lstrip("-").isdigit()


def materialize(template: Any, variables: Variables) -> Any:
    """A request template as the CBOR item to send."""
    if isinstance(template, list):
        return [materialize(v, variables) for v in template]
    if not isinstance(template, dict):
        return template
    if not template:
        return {}
    if _int_keys(template):
        return {int(k): materialize(v, variables) for k, v in template.items()}
    if "$var" in template:
        name = template["$var"]
        if name not in variables:
            raise KeyError(name)
        return variables[name]
    if "$new_uuid" in template:
        value = uuid.uuid4()
        variables[template["$new_uuid"]] = value
        return value
    if "$uuid" in template:
        return uuid.UUID(template["$uuid"])
    if "$tag" in template:
        return Tagged(int(template["$tag"]), materialize(template.get("value"), variables))
    if "$bytes" in template:
        return bytes.fromhex(template["$bytes"])
    if "$float" in template:
        return float(template["$float"])
    raise PatternError(f"unknown template object {template!r}")


def match(pattern: Any, item: Any, variables: Variables, path: str = "$") -> str | None:
    """None when `item` matches, else one line saying where and why it does not."""
    if isinstance(pattern, dict) and pattern and not _int_keys(pattern):
        return _special(pattern, item, variables, path)
    if isinstance(pattern, dict):
        if not isinstance(item, dict):
            return f"{path}: expected a map, got {render(item)}"
        expected = {int(k): v for k, v in pattern.items()}
        if set(item) != set(expected):
            return f"{path}: expected the keys {sorted(expected)}, got {sorted(map(str, item))}"
        for key, sub in expected.items():
            why = match(sub, item[key], variables, f"{path}.{key}")
            if why:
                return why
        return None
    if isinstance(pattern, list):
        if not isinstance(item, list):
            return f"{path}: expected an array of {len(pattern)}, got {render(item)}"
        if len(item) != len(pattern):
            return f"{path}: expected {len(pattern)} items, got {len(item)}"
        for index, (sub, value) in enumerate(zip(pattern, item, strict=True)):
            why = match(sub, value, variables, f"{path}[{index}]")
            if why:
                return why
        return None
    return _literal(pattern, item, path)


def _literal(pattern: Any, item: Any, path: str) -> str | None:
    if type(pattern) is not type(item) and not (isinstance(pattern, float) and isinstance(item, float)):
        return f"{path}: expected {render(pattern)}, got {render(item)}"
    if isinstance(pattern, float) and math.isnan(pattern):
        return None if math.isnan(item) else f"{path}: expected NaN, got {render(item)}"
    return None if pattern == item else f"{path}: expected {render(pattern)}, got {render(item)}"


def _is_uint(item: Any) -> bool:
    return type(item) is int and item >= 0


def _special(pattern: dict[str, Any], item: Any, variables: Variables, path: str) -> str | None:
    got = render(item)
    if "$any" in pattern:
        return None
    if "$bind" in pattern:
        variables[pattern["$bind"]] = item
        return None
    if "$var" in pattern:
        name = pattern["$var"]
        if name not in variables:
            raise PatternError(f"unknown variable {name!r}")
        return _literal(variables[name], item, path)
    if "$uint" in pattern:
        bounds = pattern["$uint"]
        if not _is_uint(item):
            return f"{path}: expected an unsigned integer, got {got}"
        if bounds is not None and not bounds[0] <= item <= bounds[1]:
            return f"{path}: expected an unsigned integer from {bounds[0]} to {bounds[1]}, got {got}"
        return None
    simple_types: dict[str, tuple[type, ...]] = {
        "$int": (int,),
        "$text": (str,),
        "$bool": (bool,),
        "$number": (int, float),
        "$bytes": (bytes,),
    }
    for key, types in simple_types.items():
        if key in pattern:
            ok = type(item) in types and not (key != "$bool" and isinstance(item, bool))
            return None if ok else f"{path}: expected {key[1:]}, got {got}"
    if "$uuid" in pattern:
        if not isinstance(item, uuid.UUID):
            return f"{path}: expected a UUID 37(h'<16 bytes>'), got {got}"
        literal = pattern["$uuid"]
        if literal is not None and item != uuid.UUID(literal):
            return f"{path}: expected the UUID {literal}, got {got}"
        return None
    if "$tag" in pattern:
        if not isinstance(item, Tagged) or item.tag != pattern["$tag"]:
            return f"{path}: expected tag {pattern['$tag']}, got {got}"
        return match(pattern.get("value", {"$any": None}), item.value, variables, f"{path}<{item.tag}>")
    if "$timestamp" in pattern:
        return _timestamp(item, path)
    if "$error" in pattern:
        codes = pattern["$error"]
        codes = codes if isinstance(codes, list) else [codes]
        if not isinstance(item, dict) or set(item) != {0, 1}:
            return f"{path}: expected an error map {{0: code, 1: text}}, got {got}"
        if item[0] not in codes or type(item[0]) is not int:
            wanted = " or ".join(str(c) for c in codes)
            return f"{path}: expected error code {wanted}, got {render(item[0])} ({render(item[1])})"
        if not isinstance(item[1], str):
            return f"{path}.1: the error message must be text, got {render(item[1])}"
        return None
    if "$map" in pattern:
        if not isinstance(item, dict):
            return f"{path}: expected a map, got {got}"
        for key, sub in pattern["$map"].items():
            wire_key = int(key) if _is_int_text(key) else materialize(key, variables)
            if wire_key not in item:
                return f"{path}: key {render(wire_key)} is missing in {got}"
            why = match(sub, item[wire_key], variables, f"{path}.{key}")
            if why:
                return why
        if not pattern.get("open", False) and len(item) != len(pattern["$map"]):
            return f"{path}: unexpected keys in {got}"
        return None
    if "$map_keys" in pattern:
        # A map keyed by values that JSON cannot spell (UUIDs): [[key template, value pattern], ...]
        if not isinstance(item, dict):
            return f"{path}: expected a map, got {got}"
        entries = [(materialize(k, variables), v) for k, v in pattern["$map_keys"]]
        if set(item) != {k for k, _ in entries}:
            return f"{path}: expected the keys {', '.join(render(k) for k, _ in entries)}, got {got}"
        for key, sub in entries:
            why = match(sub, item[key], variables, f"{path}.{render(key)}")
            if why:
                return why
        return None
    if "$array_of" in pattern:
        if not isinstance(item, list):
            return f"{path}: expected an array, got {got}"
        if len(item) < pattern.get("min", 0):
            return f"{path}: expected at least {pattern['min']} items, got {len(item)}"
        if "max" in pattern and len(item) > pattern["max"]:
            return f"{path}: expected at most {pattern['max']} items, got {len(item)}"
        for index, value in enumerate(item):
            why = match(pattern["$array_of"], value, variables, f"{path}[{index}]")
            if why:
                return why
        return None
    if "$one_of" in pattern:
        reasons = []
        for option in pattern["$one_of"]:
            why = match(option, item, variables, path)
            if why is None:
                return None
            reasons.append(why)
        return " / ".join(reasons)
    if "$not_error" in pattern:
        if isinstance(item, list) and item and item[0] == 2:
            return f"{path}: expected success, got the error {got}"
        return None
    raise PatternError(f"unknown pattern object {pattern!r}")


def _timestamp(item: Any, path: str) -> str | None:
    """Spec 4.4 and 10.14: a server always emits `1001({4: 4([-9, ns])})`."""
    wanted = "1001({4: 4([-9, <ns>])})"
    if not isinstance(item, Tagged) or item.tag != 1001:
        return f"{path}: expected a time stamp {wanted}, got {render(item)}"
    content = item.value
    if isinstance(content, dict) and set(content) == {1} and isinstance(content[1], float) and math.isinf(content[1]):
        return None  # the minimum / maximum time stamp
    if not isinstance(content, dict) or set(content) != {4}:
        return f"{path}: expected a time stamp {wanted}, got {render(item)}"
    fraction = content[4]
    if (
        not isinstance(fraction, Tagged)
        or fraction.tag != 4
        or not isinstance(fraction.value, list)
        or len(fraction.value) != 2
        or fraction.value[0] != -9
        or type(fraction.value[0]) is not int
        or type(fraction.value[1]) is not int
    ):
        return f"{path}: expected a time stamp {wanted}, got {render(item)}"
    return None
