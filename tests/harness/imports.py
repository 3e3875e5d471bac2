"""A package's import graph read from its source (``ast``, nothing imported) and a cycle finder,
for the layout tests of pki (``tests/pki/test_imports.py``) and supply
(``tests/supply/test_layout.py``).

Every import counts: at module level, inside functions and under ``TYPE_CHECKING``, since a cycle
there is one refactoring away from failing at run time. Relative imports are resolved."""

from __future__ import annotations

import ast
from pathlib import Path


def module_name(path: Path, package: Path) -> str:
    """``pki/commands/ca.py`` -> ``pki.commands.ca``; a package's ``__init__.py`` is the package."""
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _internal_imports(tree: ast.AST, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """The modules of ``modules`` that module ``name`` imports: ``from a import b`` names module
    ``a.b`` when there is one, else module ``a``."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                if submodule in modules:
                    found.add(submodule)
                elif module in modules:
                    found.add(module)
    return found


def import_graph(package: Path, *, markers: frozenset[str] = frozenset()) -> dict[str, set[str]]:
    """Each module of the package in directory ``package`` -> the package's modules it imports,
    leaving out ``markers`` (``__init__`` modules that hold no code) as targets."""
    paths = sorted(package.rglob("*.py"))
    modules = {module_name(p, package) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        name = module_name(path, package)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = _internal_imports(tree, name, path.name == "__init__.py", modules)
        graph[name] = imported - markers - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]``, or None."""
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
