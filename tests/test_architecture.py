"""The layers of docs/architecture.md: the page, the import-linter contracts and the code agree,
imports go down only, and no module imports itself round a circle."""

from __future__ import annotations

import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "evalkit"


def _contract_layers() -> list[str]:
    # read as text: tomllib is not in Python 3.10, which evalkit supports
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    (block,) = re.findall(r'type = "layers"\nlayers = \[(.*?)\]', text, re.S)
    return re.findall(r'"evalkit\.(\w+)"', block)


def _documented_layers() -> list[str]:
    page = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    match = re.search(r"<!-- layers: ([a-z ]+) -->", page)
    assert match, "docs/architecture.md lists its layers in a `<!-- layers: ... -->` line"
    return match.group(1).split()


def test_the_page_the_contracts_and_the_packages_name_the_same_layers() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert _documented_layers() == _contract_layers()
    assert packages == {*_contract_layers(), "scripted"}
    page = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    for layer in _contract_layers():
        assert f"`evalkit/{layer}/`" in page, layer


def test_the_top_level_holds_packages_not_modules() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"]


def test_imports_go_down_only() -> None:
    graph = grimp.build_graph("evalkit")
    illegal = graph.find_illegal_dependencies_for_layers(
        layers=[f"evalkit.{name}" for name in _contract_layers()], containers=None
    )
    upward = sorted(f"{d.importer} -> {d.imported}" for d in illegal)
    assert upward == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_circle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_round_a_circle() -> None:
    # every import counts: lazy ones inside functions and those under TYPE_CHECKING
    graph = grimp.build_graph("evalkit")
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert _cycles(edges) == []
