"""The pki package has no import cycles between its own modules (checked on the source, not by
importing it: ``TYPE_CHECKING`` imports and imports inside functions count too, since a cycle there
is one refactoring away from failing at run time)."""

from __future__ import annotations

from pathlib import Path

import pki
from tests.harness.imports import find_cycle
from tests.harness.imports import import_graph as _import_graph

PACKAGE = Path(pki.__file__).parent


def import_graph() -> dict[str, set[str]]:
    return _import_graph(PACKAGE, markers=frozenset({"pki", "pki.commands"}))


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
