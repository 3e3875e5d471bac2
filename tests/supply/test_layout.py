"""supply's sub-packages (api, catalog, identity, inventory, idempotency, serving) and top-level
modules (errors, commands, urls, ...) import each other without cycles: each layer builds only on
the ones below it. Checked on the source, not by importing it (tests.harness.imports): imports
inside functions and under ``TYPE_CHECKING`` count too."""

from __future__ import annotations

from pathlib import Path

import supply
from tests.harness.imports import find_cycle, import_graph

PACKAGE = Path(supply.__file__).parent


def _part(module: str) -> str | None:
    """``supply.api.fields`` -> ``api``, ``supply.errors`` -> ``errors``; ``supply`` -> None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def layer_graph() -> dict[str, set[str]]:
    """Sub-package (or top-level module) -> the others it imports from, anywhere in its modules."""
    graph: dict[str, set[str]] = {}
    for module, targets in import_graph(PACKAGE).items():
        source = _part(module)
        if source is None:
            continue
        edges = graph.setdefault(source, set())
        edges.update(t for t in map(_part, targets) if t is not None and t != source)
    return graph


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = layer_graph()
    assert {"api", "catalog", "identity", "inventory", "idempotency", "serving"} <= set(graph)
    assert "catalog" in graph["inventory"]  # module level
    assert "identity" in graph["settings"]  # a top-level module is a node too
    assert "idempotency" in graph["api"]  # from supply.idempotency import keys as ...


def test_function_level_imports_count(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "a").mkdir(parents=True)
    (package / "b").mkdir()
    for path in ("__init__.py", "a/__init__.py", "b/__init__.py", "b/y.py"):
        (package / path).write_text("")
    (package / "a" / "x.py").write_text("def f():\n    from pkg.b import y\n")
    (package / "b" / "z.py").write_text("from ..a import x\n")
    graph = import_graph(package)
    assert graph["pkg.a.x"] == {"pkg.b.y"}
    assert graph["pkg.b.z"] == {"pkg.a.x"}
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_no_cycles_between_supply_packages() -> None:
    cycle = find_cycle(layer_graph())
    assert cycle is None, "import cycle between supply's packages: " + " -> ".join(cycle or ())
