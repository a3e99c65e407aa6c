"""The package's shape: no import cycles, small modules, a small algorithm, private names kept.

Everything here reads the source with :mod:`ast`; nothing is imported. The
import graph has one edge per import that runs when a module is imported:
statements at module level, including those inside module-level ``try``,
``if``, ``with`` and loops and inside class bodies, but not inside functions
and not under ``if TYPE_CHECKING:``. ``from rustybt.x import y`` is an edge to
``rustybt.x.y`` when that is a module, else to ``rustybt.x``; relative imports
are resolved the same way. Parent packages are not edges: importing
``rustybt.x.y`` runs ``rustybt/x/__init__.py`` first, but a package's
``__init__`` importing its own submodules is no cycle anyone can untangle.

The allowlists name what other work in progress (issue 15) still has to fix.
They may only shrink: an entry that no longer offends fails its test, so
whoever fixes it deletes the entry.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "rustybt"
MAX_MODULE_LINES = 800
MAX_ALGORITHM_LINES = 600

# issue 15: emptied as the rewrite lands.
# Each entry is one strongly connected set of modules of the import graph.
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()

# issue 15: emptied as the rewrite lands.
# Modules over MAX_MODULE_LINES lines; "rustybt.algorithm.TradingAlgorithm" is
# the class, over MAX_ALGORITHM_LINES lines.
KNOWN_OVERSIZE: frozenset[str] = frozenset()

# issue 15: emptied as the rewrite lands.
# (importing module, imported-from module, private name).
KNOWN_PRIVATE_IMPORTS: frozenset[tuple[str, str, str]] = frozenset()


# --- reading the package --------------------------------------------------------


@dataclass(frozen=True)
class Module:
    """One module of the package: its dotted name, file and parsed source."""

    name: str
    path: Path
    tree: ast.Module
    is_package: bool

    @property
    def package(self) -> str:
        """The package relative imports are resolved against."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


@cache
def modules() -> dict[str, Module]:
    """Every module of rustybt by dotted name."""
    found: dict[str, Module] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found[name] = Module(name, path, tree, is_package)
    return found


def is_type_checking(test: ast.expr) -> bool:
    """Whether an ``if`` test is ``TYPE_CHECKING`` (bare or ``typing.TYPE_CHECKING``)."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of ``body`` that run when the module is imported, nested ones included."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            if not is_type_checking(node.test):
                yield from import_time_statements(node.body)
            yield from import_time_statements(node.orelse)
        elif isinstance(node, ast.Try | ast.TryStar):
            yield from import_time_statements(node.body)
            for handler in node.handlers:
                yield from import_time_statements(handler.body)
            yield from import_time_statements(node.orelse)
            yield from import_time_statements(node.finalbody)
        elif isinstance(node, ast.For | ast.While):
            yield from import_time_statements(node.body)
            yield from import_time_statements(node.orelse)
        elif isinstance(node, ast.With | ast.ClassDef):
            # A class body runs when the class statement does.
            yield from import_time_statements(node.body)


def source_module(module: Module, node: ast.ImportFrom) -> str:
    """The absolute dotted name ``node`` imports from."""
    if node.level == 0:
        return node.module or ""
    base = module.package.split(".")
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def owning_module(name: str) -> str | None:
    """``name`` if it is a module of rustybt, else its nearest parent that is; None outside."""
    known = modules()
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def targets(module: Module, node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str]]:
    """``(imported module, imported name)`` of each name ``node`` imports from rustybt."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            target = owning_module(alias.name)
            if target is not None:
                yield target, alias.name
        return
    source = source_module(module, node)
    for alias in node.names:
        target = owning_module(f"{source}.{alias.name}")
        if target is not None:
            yield target, alias.name


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Each module's import-time imports of other rustybt modules."""
    graph: dict[str, frozenset[str]] = {}
    for name, module in modules().items():
        edges = {
            target
            for node in import_time_statements(module.tree.body)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for target, _ in targets(module, node)
        }
        edges.discard(name)
        graph[name] = frozenset(edges)
    return graph


def strongly_connected(graph: dict[str, frozenset[str]]) -> list[frozenset[str]]:
    """The sets of modules that import each other, directly or not (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.add(member)
                    if member == node:
                        break
                if len(members) > 1:
                    found.append(frozenset(members))
    return found


def one_cycle(graph: dict[str, frozenset[str]], members: frozenset[str]) -> list[str]:
    """A shortest import path from the first member back to itself, within ``members``."""
    start = min(members)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return sorted(members)  # unreachable for a strongly connected set


def cycle_text(graph: dict[str, frozenset[str]], members: frozenset[str]) -> str:
    """The members of a cycle and one path through it."""
    path = " -> ".join(one_cycle(graph, members))
    return f"{{{', '.join(sorted(members))}}} (e.g. {path})"


def line_count(module: Module) -> int:
    """Lines of the module's file."""
    return len(module.path.read_text(encoding="utf-8").splitlines())


def algorithm_class_lines() -> int:
    """Lines spanned by ``class TradingAlgorithm`` in rustybt/algorithm.py."""
    tree = modules()["rustybt.algorithm"].tree
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "TradingAlgorithm":
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return (node.end_lineno or node.lineno) - first + 1
    raise AssertionError("rustybt/algorithm.py defines no class TradingAlgorithm")


def is_private(name: str) -> bool:
    """A leading underscore and not a dunder."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports() -> set[tuple[str, str, str]]:
    """``(importer, imported-from, name)`` of every ``from rustybt... import _name``, anywhere."""
    found: set[tuple[str, str, str]] = set()
    for name, module in modules().items():
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            source = owning_module(source_module(module, node))
            if source is None or source == name:
                continue
            for alias in node.names:
                if is_private(alias.name):
                    found.add((name, source, alias.name))
    return found


# --- the checks ---------------------------------------------------------------


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    cycles = set(strongly_connected(graph))
    new = sorted(cycle_text(graph, c) for c in cycles - KNOWN_CYCLES)
    assert not new, "import cycles:\n" + "\n".join(new)


def test_every_known_cycle_is_still_a_cycle() -> None:
    cycles = set(strongly_connected(import_graph()))
    gone = sorted(", ".join(sorted(c)) for c in KNOWN_CYCLES - cycles)
    assert not gone, "remove from KNOWN_CYCLES, no longer a cycle as listed:\n" + "\n".join(gone)


def oversize() -> set[str]:
    """Modules over MAX_MODULE_LINES, and TradingAlgorithm if it is over MAX_ALGORITHM_LINES."""
    found = {name for name, module in modules().items() if line_count(module) > MAX_MODULE_LINES}
    if algorithm_class_lines() > MAX_ALGORITHM_LINES:
        found.add("rustybt.algorithm.TradingAlgorithm")
    return found


def test_no_module_over_800_lines_and_a_small_algorithm() -> None:
    new = sorted(oversize() - KNOWN_OVERSIZE)
    sizes = [
        f"{name}: {line_count(modules()[name])} lines"
        if name in modules()
        else f"{name}: {algorithm_class_lines()} lines"
        for name in new
    ]
    assert not sizes, (
        f"over {MAX_MODULE_LINES} lines (TradingAlgorithm: {MAX_ALGORITHM_LINES}):\n"
        + "\n".join(sizes)
    )


def test_every_known_oversize_item_is_still_oversize() -> None:
    gone = sorted(KNOWN_OVERSIZE - oversize())
    assert not gone, "remove from KNOWN_OVERSIZE, no longer oversize:\n" + "\n".join(gone)


def test_no_module_imports_a_private_name_of_another() -> None:
    new = sorted(private_imports() - KNOWN_PRIVATE_IMPORTS)
    shown = [f"{importer}: from {source} import {name}" for importer, source, name in new]
    assert not shown, "private names imported from another module:\n" + "\n".join(shown)


def test_every_known_private_import_is_still_there() -> None:
    gone = sorted(KNOWN_PRIVATE_IMPORTS - private_imports())
    shown = [f"{importer}: from {source} import {name}" for importer, source, name in gone]
    assert not shown, "remove from KNOWN_PRIVATE_IMPORTS, no longer imported:\n" + "\n".join(shown)


# --- the checker itself, on small made-up packages -------------------------------


def test_a_cycle_is_found_and_shown_as_a_path() -> None:
    graph = {
        "a": frozenset({"b"}),
        "b": frozenset({"c"}),
        "c": frozenset({"a", "d"}),
        "d": frozenset(),
    }
    (members,) = strongly_connected(graph)
    assert members == {"a", "b", "c"}
    assert one_cycle(graph, members) == ["a", "b", "c", "a"]


def test_an_acyclic_graph_has_no_cycle() -> None:
    graph = {"a": frozenset({"b", "c"}), "b": frozenset({"c"}), "c": frozenset()}
    assert strongly_connected(graph) == []


@pytest.mark.parametrize(
    ("source", "runs"),
    [
        ("import os", True),
        ("if TYPE_CHECKING:\n    import os", False),
        ("if typing.TYPE_CHECKING:\n    import os", False),
        ("if TYPE_CHECKING:\n    pass\nelse:\n    import os", True),
        ("try:\n    import os\nexcept ImportError:\n    pass", True),
        ("try:\n    pass\nexcept ImportError:\n    import os", True),
        ("def f():\n    import os", False),
        ("class A:\n    import os", True),
        ("class A:\n    def f(self):\n        import os", False),
        ("with x:\n    import os", True),
        ("for x in y:\n    pass\nelse:\n    import os", True),
    ],
)
def test_which_imports_run_at_import_time(source: str, runs: bool) -> None:
    body = ast.parse(source).body
    found = any(isinstance(node, ast.Import) for node in import_time_statements(body))
    assert found is runs


def test_imports_resolve_to_modules_of_the_package() -> None:
    storage = modules()["rustybt.data.storage"]
    node = ast.parse("from . import daily_bars, __all__").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert list(targets(storage, node)) == [
        ("rustybt.data.storage.daily_bars", "daily_bars"),
        ("rustybt.data.storage", "__all__"),
    ]
    node = ast.parse("from ..validation import validate_bars").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert list(targets(storage, node)) == [("rustybt.data.validation", "validate_bars")]
    node = ast.parse("import rustybt.sim.events, numpy").body[0]
    assert isinstance(node, ast.Import)
    assert list(targets(storage, node)) == [("rustybt.sim.events", "rustybt.sim.events")]
