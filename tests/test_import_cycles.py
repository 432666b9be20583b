"""No import cycle between files: the modules of src/lernwerk form a graph without loops.

An edge goes from a file to every module it imports (at the top or inside a function;
imports under `if TYPE_CHECKING:` never run and are left out). Importing a name from a
package is an edge to the package's `__init__.py`, which is where a cycle through a
re-export hides.
"""

from __future__ import annotations

import ast
from pathlib import Path

import lernwerk

SOURCE = Path(lernwerk.__file__).parent
ROOT = SOURCE.parent


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _file_of(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _runtime_nodes(tree: ast.AST):
    """Every node, except what sits under `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def imports_of(path: Path) -> set[str]:
    """The lernwerk modules a file imports, as files: 'lernwerk.data.dataset', ..."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = (
        _module_of(path) if path.name == "__init__.py" else _module_of(path).rpartition(".")[0]
    )
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                module = ".".join(
                    parts[: len(parts) - node.level + 1] + ([module] if module else [])
                )
            names = []
            for alias in node.names:
                full = f"{module}.{alias.name}"
                names.append(full if _file_of(full) else module)
        else:
            continue
        found.update(n for n in names if n.split(".")[0] == "lernwerk" and _file_of(n))
    return found


def import_graph() -> dict[str, set[str]]:
    return {
        _module_of(path): imports_of(path) - {_module_of(path)}
        for path in sorted(SOURCE.rglob("*.py"))
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_checker_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_files() -> None:
    graph = import_graph()
    assert len(graph) > 100  # the whole source was read
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)
