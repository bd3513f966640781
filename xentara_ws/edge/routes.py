"""The route table: which handler or WebSocket app serves a path (exact paths win, then the longest prefix)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Route(Generic[T]):
    target: T
    subprotocols: tuple[str, ...] = ()


class RouteTable(Generic[T]):
    def __init__(self) -> None:
        self._exact: dict[str, Route[T]] = {}
        self._prefixes: list[tuple[str, Route[T]]] = []

    def add(self, path: str, route: Route[T], *, prefix: bool = False) -> None:
        if not path.startswith("/"):
            raise ValueError(f"a route path starts with '/': {path!r}")
        if prefix:
            self._prefixes = [(p, r) for p, r in self._prefixes if p != path]
            self._prefixes.append((path, route))
            self._prefixes.sort(key=lambda item: len(item[0]), reverse=True)
        else:
            self._exact[path] = route

    def find(self, path: str) -> Route[T] | None:
        route = self._exact.get(path)
        if route is not None:
            return route
        for prefix, route in self._prefixes:
            if path.startswith(prefix):
                return route
        return None

    def paths(self) -> list[str]:
        return sorted([*self._exact, *(p + "*" for p, _ in self._prefixes)])
