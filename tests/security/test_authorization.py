"""ACL evaluation: default ACL, inheritance through the model, deny precedence, the "both" rule."""

from __future__ import annotations

import uuid
from typing import Any

from support.fixtures import SAMPLE_CONFIG as SAMPLE
from support.fixtures import SCHEMAS, needs_vendor_fixtures

from xentara_ws.model.element import Element
from xentara_ws.protocol.identifiers import ElementCategory
from xentara_ws.security.authentication import Principal
from xentara_ws.security.authorization import AccessControl
from xentara_ws.security.config import load_configuration

pytestmark = needs_vendor_fixtures

EVERYONE = Principal("guest", frozenset({"Everyone"}), "user")
ADMIN = Principal("admin", frozenset({"Everyone", "Administrator"}), "user")
OPERATOR = Principal("op", frozenset({"Everyone", "Operator"}), "user")


def element(name: str, parent: Element | None = None, acl: Any = None, *, root: bool = False) -> Element:
    e = Element(
        name=name,
        element_uuid=uuid.uuid4(),
        model_type="@Group",
        type_name="group",
        category=ElementCategory.ROOT_ELEMENT if root else ElementCategory.ELEMENT_GROUP,
        acl=acl,
    )
    if parent is not None:
        parent.add_child(e)
    return e


def access(config_dir, security: dict) -> AccessControl:
    security.setdefault(
        "roles", [{"name": "Administrator", "UUID": str(uuid.uuid4())}, {"name": "Operator", "UUID": str(uuid.uuid4())}]
    )
    return AccessControl(load_configuration(config_dir(security=security), SCHEMAS))


def test_vendor_sample_everyone_connects_only_admin_reads_and_writes() -> None:
    ac = AccessControl(load_configuration(SAMPLE, SCHEMAS))
    root = element("", root=True)
    pulse = element("Pulse", element("Sampler", root))
    assert ac.can_connect(EVERYONE) and ac.can_connect(ADMIN)
    assert ac.can_read(ADMIN, pulse) and ac.can_write(ADMIN, pulse)
    assert not ac.can_read(EVERYONE, pulse) and not ac.can_write(EVERYONE, pulse)
    assert not ac.allowed(ADMIN, "suspend", None)  # stage control only when an ACL grants it


def test_default_acl_lets_everyone_connect_and_read_but_not_write(config_dir) -> None:
    ac = access(
        config_dir,
        {
            "entitlements": [
                {"name": "monitor", "UUID": str(uuid.uuid4()), "default": "allow"},
                {"name": "control", "UUID": str(uuid.uuid4())},
            ]
        },
    )
    leaf = element("x", element("", root=True))
    assert ac.can_connect(EVERYONE) and ac.can_read(EVERYONE, leaf)
    assert not ac.can_write(EVERYONE, leaf)
    assert ac.allowed(EVERYONE, "monitor", leaf) and not ac.allowed(EVERYONE, "control", leaf)


def test_element_acl_allow_applies_to_element_and_its_children_only(config_dir) -> None:
    ac = access(config_dir, {})
    root = element("", root=True)
    writable = element("Writable", root, {"entries": [{"role": "Everyone", "allow": ["write"]}]})
    child = element("Child", writable)
    sibling = element("Other", root)
    assert ac.can_write(EVERYONE, writable) and ac.can_write(EVERYONE, child)
    assert not ac.can_write(EVERYONE, sibling)


def test_more_specific_deny_overrides_inherited_allow_but_allow_for_another_role_wins(config_dir) -> None:
    ac = access(config_dir, {"ACL": {"entries": [{"role": "Everyone", "allow": ["write"]}]}})
    root = element("", root=True)
    restricted = element(
        "Restricted",
        root,
        {"entries": [{"role": "Everyone", "deny": ["write"]}, {"role": "Administrator", "allow": ["write"]}]},
    )
    below = element("Below", restricted)
    free = element("Free", root)
    assert ac.can_write(EVERYONE, free)
    assert not ac.can_write(EVERYONE, restricted) and not ac.can_write(EVERYONE, below)
    assert ac.can_write(ADMIN, restricted) and ac.can_write(ADMIN, below)
    assert ac.can_read(EVERYONE, below)  # the deny is only about write


def test_inherit_false_cuts_off_everything_above(config_dir) -> None:
    ac = access(config_dir, {"ACL": {"entries": [{"role": "Everyone", "allow": ["write"]}]}})
    root = element("", root=True)
    sealed = element("Sealed", root, {"inherit": False, "entries": [{"role": "Operator", "allow": ["read"]}]})
    inner = element("Inner", sealed)
    assert not ac.can_write(EVERYONE, inner) and not ac.can_read(EVERYONE, inner)  # no default read either
    assert ac.can_read(OPERATOR, inner) and not ac.can_write(OPERATOR, inner)
    empty = element("Empty", root, {"inherit": False})
    assert not ac.can_read(ADMIN, empty) and not ac.can_write(ADMIN, empty)


def test_model_root_acl_sits_between_elements_and_global(config_dir) -> None:
    ac = access(config_dir, {"ACL": {"entries": [{"role": "Operator", "allow": ["write"]}]}})
    root = element("", None, {"entries": [{"role": "Operator", "deny": ["write"]}]}, root=True)
    leaf = element("Leaf", root)
    assert not ac.can_write(OPERATOR, leaf)
    assert ac.allowed(OPERATOR, "write", None)  # the global chain alone would allow it


def test_unknown_roles_and_entitlements_in_acls_are_ignored(config_dir) -> None:
    ac = access(
        config_dir,
        {
            "ACL": {
                "inherit": False,
                "entries": [{"role": "Ghost", "allow": ["read"]}, {"role": "Everyone", "allow": ["fly", "read"]}],
            }
        },
    )
    leaf = element("x", element("", root=True))
    assert ac.can_read(EVERYONE, leaf)
    assert not ac.allowed(Principal("g", frozenset({"Everyone", "Ghost"}), "token"), "fly", leaf)


def test_sub_session_needs_both_principals(config_dir) -> None:
    ac = access(config_dir, {"ACL": {"entries": [{"role": "Administrator", "allow": ["write"]}]}})
    root = element("", root=True)
    leaf = element("x", root)
    assert ac.allowed_both(ADMIN, None, "write", leaf)
    assert not ac.allowed_both(ADMIN, EVERYONE, "write", leaf)
    assert not ac.allowed_both(EVERYONE, ADMIN, "write", leaf)
    assert ac.allowed_both(ADMIN, ADMIN, "write", leaf)
    assert ac.check_access(ADMIN, ADMIN, root) == (True, True)
    assert ac.check_access(ADMIN, EVERYONE, root) == (True, False)


def test_check_access_on_the_vendor_sample() -> None:
    ac = AccessControl(load_configuration(SAMPLE, SCHEMAS))
    root = element("", root=True)
    assert ac.check_access(ADMIN, ADMIN, root) == (True, True)
    assert ac.check_access(ADMIN, EVERYONE, root) == (False, False)


def test_invalidate_picks_up_a_changed_element_acl(config_dir) -> None:
    ac = access(config_dir, {})
    leaf = element("x", element("", root=True))
    assert not ac.can_write(EVERYONE, leaf)
    leaf.acl = {"entries": [{"role": "Everyone", "allow": ["write"]}]}
    ac.invalidate()
    assert ac.can_write(EVERYONE, leaf)


def test_malformed_element_acl_fails_closed(config_dir) -> None:
    ac = access(config_dir, {})
    leaf = element("x", element("", root=True), {"entries": "nope"})
    assert not ac.can_read(ADMIN, leaf)
