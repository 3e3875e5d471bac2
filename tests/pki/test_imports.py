"""The pki package has no import cycles between its own modules (checked on the source, not by
importing it: ``TYPE_CHECKING`` imports and imports inside functions count too, since a cycle there
is one refactoring away from failing at run time)."""

from __future__ import annotations

import ast
from pathlib import Path

import pki

PACKAGE = Path(pki.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _internal_imports(path: Path, modules: set[str]) -> set[str]:
    """The pki modules that ``path`` imports (``from pki import x`` names module ``pki.x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in modules:
                    found.add(submodule)
                elif node.module in modules:
                    found.add(node.module)
    return found - {"pki", "pki.commands"}  # the package markers hold no code


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _internal_imports(p, modules) - {_module_name(p)} for p in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once fully explored

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = visit(target, [*path, target])
                if cycle:
                    return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def test_the_graph_sees_the_package() -> None:
    graph = import_graph()
    assert "pki.files" in graph["pki.home"]
    assert "pki.crl" in graph["pki.ca"]
    assert "pki.home" in graph["pki.commands._common"]


def test_find_cycle_reports_one() -> None:
    graph = {"pki.a": {"pki.b"}, "pki.b": {"pki.c"}, "pki.c": {"pki.a"}, "pki.d": set()}
    assert find_cycle(graph) == ["pki.a", "pki.b", "pki.c", "pki.a"]
    assert find_cycle({"pki.a": {"pki.b"}, "pki.b": set()}) is None


def test_no_import_cycles_in_pki() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())
