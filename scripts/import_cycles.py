#!/usr/bin/env python3
"""Print the import circles of the `xentara_ws` package, from its source (nothing is imported).

The graph has an edge A -> B when module A imports B: at module level, inside a function (a
function-level import closes a circle as surely, only later), or under `if TYPE_CHECKING:` (it
never runs, but the two modules still cannot be understood one without the other; --run-time
leaves these out). Importing `a.b.c` also runs the packages `a.b` and `a`, so those are edges too
(unless they are packages of A itself).

Each strongly connected component of the graph is one tangle; for every module in it the script
prints the shortest circle through that module (deduplicated), which is what one untangles.

    python scripts/import_cycles.py                        # every circle; exit status 0
    python scripts/import_cycles.py --fail-on xentara_ws.server.commands xentara_ws.server.dispatcher
        # exit status 1 if a circle passes through one of these modules (or a module under them)
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "xentara_ws"


# How an import runs, strongest first: a circle's edge is shown with the strongest way it is made.
MODULE_LEVEL, IN_FUNCTION, TYPE_CHECKING_ONLY = 0, 1, 2
_HOW = {MODULE_LEVEL: "", IN_FUNCTION: ", in a function", TYPE_CHECKING_ONLY: ", for type checking only"}


@dataclass(frozen=True)
class Edge:
    target: str
    line: int
    how: int


def module_names(package_dir: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package is named by its `__init__.py`)."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, type_checking: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, int]]:
    """Each import statement with how it runs; TYPE_CHECKING blocks only if `type_checking`."""

    def walk(node: ast.AST, how: int) -> Iterator[tuple[ast.Import | ast.ImportFrom, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, how
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                if type_checking:
                    for inner in child.body:
                        yield from walk_one(inner, TYPE_CHECKING_ONLY)
                for other in child.orelse:
                    yield from walk_one(other, how)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from walk(child, max(how, IN_FUNCTION))
            else:
                yield from walk(child, how)

    def walk_one(node: ast.AST, how: int) -> Iterator[tuple[ast.Import | ast.ImportFrom, int]]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, how
        else:
            yield from walk(node, how)

    yield from walk(tree, MODULE_LEVEL)


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def build_graph(modules: dict[str, Path], type_checking: bool = True) -> dict[str, list[Edge]]:
    graph: dict[str, list[Edge]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        own_package = name if is_package else name.rpartition(".")[0]
        edges: dict[str, Edge] = {}
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, how in _imports(tree, type_checking):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base_parts = own_package.split(".")
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.append(submodule if submodule in modules else base)
            for target in targets:
                if target not in modules:
                    continue  # another distribution's module
                mine = set(_ancestors(name)) | {name}
                for reached in [*_ancestors(target), target]:
                    if reached in mine or reached not in modules:
                        continue
                    known = edges.get(reached)
                    if known is None or how < known.how:
                        edges[reached] = Edge(reached, node.lineno, how)
        graph[name] = sorted(edges.values(), key=lambda e: e.target)
    return graph


def components(graph: dict[str, list[Edge]]) -> list[list[str]]:
    """The strongly connected components with a circle in them (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = graph[node]
            if position < len(edges):
                work.append((node, position + 1))
                target = edges[position].target
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1 or any(e.target == node for e in edges):
                    found.append(sorted(members))
    return sorted(found)


def shortest_cycle(graph: dict[str, list[Edge]], start: str, within: set[str]) -> list[str]:
    """The shortest circle from `start` back to itself inside one component (breadth first)."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for edge in graph[node]:
            if edge.target not in within:
                continue
            if edge.target == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if edge.target not in previous:
                previous[edge.target] = node
                queue.append(edge.target)
    return []


def _rotate(cycle: list[str]) -> tuple[str, ...]:
    """A circle written from its smallest module, so the same circle is printed once."""
    ring = cycle[:-1]
    first = ring.index(min(ring))
    return tuple(ring[first:] + ring[:first])


def cycles(graph: dict[str, list[Edge]]) -> list[tuple[list[str], list[tuple[str, ...]]]]:
    """Each tangle (component) with the distinct shortest circles through its modules."""
    result = []
    for members in components(graph):
        within = set(members)
        circles = {_rotate(shortest_cycle(graph, member, within)) for member in members}
        result.append((members, sorted(circles, key=lambda c: (len(c), c))))
    return result


def _describe(graph: dict[str, list[Edge]], modules: dict[str, Path], circle: tuple[str, ...]) -> str:
    hops = []
    for source, target in zip(circle, [*circle[1:], circle[0]], strict=True):
        edge = next(e for e in graph[source] if e.target == target)
        where = f"{modules[source].relative_to(ROOT)}:{edge.line}"
        hops.append(f"    {source} -> {target}  ({where}{_HOW[edge.how]})")
    return "\n".join(hops)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-time", action="store_true", help="leave out imports under `if TYPE_CHECKING:`")
    parser.add_argument(
        "--fail-on",
        nargs="*",
        default=[],
        metavar="MODULE",
        help="exit 1 if a circle passes through one of these modules or a module under them",
    )
    args = parser.parse_args(argv)
    modules = module_names(ROOT / PACKAGE)
    graph = build_graph(modules, type_checking=not args.run_time)
    tangles = cycles(graph)
    if not tangles:
        print("no import circles")
    guarded: set[str] = set()
    for number, (members, circles) in enumerate(tangles, 1):
        print(f"tangle {number}: {len(members)} modules: {', '.join(members)}")
        for circle in circles:
            print(f"  circle of {len(circle)}:")
            print(_describe(graph, modules, circle))
        guarded |= {m for m in members if any(m == p or m.startswith(p + ".") for p in args.fail_on)}
    if guarded:
        print(f"FAIL: circles pass through {', '.join(sorted(guarded))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
