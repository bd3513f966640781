"""Roles, entitlements and ACL evaluation with inheritance (reference §4.4, §4.5, §7)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .config import EVERYONE, Acl, AclEntry, XentaraConfiguration, parse_acl

if TYPE_CHECKING:
    from ..model.element import Element
    from .authentication import Principal

logger = logging.getLogger(__name__)

READ = "read"
WRITE = "write"
CONNECT = "websocket.connect"
SUSPEND = "suspend"
SHUTDOWN = "shutdown"


class AccessControl:
    """Answers "may this principal do X here?" for the global scope and for model elements.

    Results are cached per (element, role set, entitlement); call `invalidate()` after ACLs change.
    """

    def __init__(self, config: XentaraConfiguration) -> None:
        self.known_roles = config.known_roles
        self.known_entitlements = config.known_entitlements
        self.global_acl = self._clean(config.global_acl, "security.json $.ACL")
        default_allow = {READ, CONNECT} | {e.name for e in config.entitlements.values() if e.default == "allow"}
        self.default_acl = Acl(inherit=False, entries=(AclEntry(EVERYONE, frozenset(default_allow)),))
        self._global_chain: tuple[Acl, ...] = (
            (self.global_acl,) if not self.global_acl.inherit else (self.global_acl, self.default_acl)
        )
        self._element_acls: dict[int, Acl | None] = {}
        self._chains: dict[int, tuple[Acl, ...]] = {}
        self._cache: dict[tuple[int, frozenset[str], str], bool] = {}

    def invalidate(self) -> None:
        """Forget parsed element ACLs and cached answers (after the model or its ACLs changed)."""
        self._element_acls.clear()
        self._chains.clear()
        self._cache.clear()

    # -- building chains -------------------------------------------------------------------------

    def _clean(self, acl: Acl, where: str) -> Acl:
        """Drop unknown roles and entitlements with a warning, as Xentara does (reference §4.3)."""
        entries = []
        for entry in acl.entries:
            if entry.role not in self.known_roles:
                logger.warning("%s: ACL entry for undefined role %r ignored", where, entry.role)
                continue
            unknown = (entry.allow | entry.deny) - self.known_entitlements
            if unknown:
                logger.warning("%s: undefined entitlements %s ignored", where, sorted(unknown))
            entries.append(
                AclEntry(entry.role, entry.allow & self.known_entitlements, entry.deny & self.known_entitlements)
            )
        return Acl(inherit=acl.inherit, entries=tuple(entries))

    def _element_acl(self, element: Element) -> Acl | None:
        key = id(element)
        if key not in self._element_acls:
            raw = element.acl
            if raw is None:
                acl = None
            else:
                where = f"model.json ACL of {element.primary_key or '(model root)'}"
                try:
                    acl = self._clean(parse_acl(raw, "model.json", where), where)
                except ValueError as exc:
                    # The model loader should have refused it; fail closed rather than grant anything.
                    logger.error("%s is malformed (%s): treated as deny-all", where, exc)
                    acl = Acl(inherit=False)
            self._element_acls[key] = acl
        return self._element_acls[key]

    def chain(self, element: Element | None) -> tuple[Acl, ...]:
        """The ACLs consulted for an element: element → ancestors → model root → global → default,
        ending with the first ACL whose `inherit` is false."""
        if element is None:
            return self._global_chain
        key = id(element)
        cached = self._chains.get(key)
        if cached is not None:
            return cached
        acls: list[Acl] = []
        node: Element | None = element
        complete = False
        while node is not None:
            acl = self._element_acl(node)
            if acl is not None:
                acls.append(acl)
                if not acl.inherit:
                    complete = True
                    break
            node = node.parent
        result = tuple(acls) if complete else tuple(acls) + self._global_chain
        self._chains[key] = result
        return result

    # -- decisions -------------------------------------------------------------------------------

    @staticmethod
    def _decide(chain: tuple[Acl, ...], roles: frozenset[str], entitlement: str) -> bool:
        for acl in chain:
            denied = False
            for entry in acl.entries:
                if entry.role in roles:
                    if entitlement in entry.allow:
                        return True  # within one ACL, an allow for any of the roles beats a deny
                    if entitlement in entry.deny:
                        denied = True
            if denied:
                return False  # the most specific ACL that mentions it decides
        return False

    def allowed(self, principal: Principal, entitlement: str, element: Element | None = None) -> bool:
        """Whether `principal` holds `entitlement` on `element` (None = the global ACL chain)."""
        key = (id(element) if element is not None else 0, principal.roles, entitlement)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._decide(self.chain(element), principal.roles, entitlement)
            self._cache[key] = cached
        return cached

    def can_read(self, principal: Principal, element: Element) -> bool:
        key = (id(element), principal.roles, READ)
        cached = self._cache.get(key)
        return cached if cached is not None else self.allowed(principal, READ, element)

    def can_write(self, principal: Principal, element: Element) -> bool:
        return self.allowed(principal, WRITE, element)

    def can_connect(self, principal: Principal) -> bool:
        """`websocket.connect`, checked against the global chain (reference §7.1 [PROPOSAL])."""
        return self.allowed(principal, CONNECT, None)

    def allowed_both(
        self, connection: Principal, sub_session: Principal | None, entitlement: str, element: Element | None = None
    ) -> bool:
        """The "both" rule: with a sub-session, connection AND sub-session must hold it (reference §7.2)."""
        if not self.allowed(connection, entitlement, element):
            return False
        return sub_session is None or self.allowed(sub_session, entitlement, element)

    def check_access(self, connection: Principal, sub_session: Principal, model_root: Element) -> tuple[bool, bool]:
        """(read_access, write_access) for check_access (opcode 15): both principals, at the model root."""
        return (
            self.allowed_both(connection, sub_session, READ, model_root),
            self.allowed_both(connection, sub_session, WRITE, model_root),
        )
