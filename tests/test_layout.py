"""The package's layout keeps its promises: no import cycles, no private names across modules, no environment."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "carnk_ld"
MODULES = sorted(p for p in PACKAGE.glob("*.py"))


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, imported names, line) of every carnk_ld import in a file, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("carnk_ld"):
            if node.module == "carnk_ld":  # from carnk_ld import qc
                for alias in node.names:
                    found.append((f"carnk_ld.{alias.name}", [], node.lineno))
            else:
                found.append((node.module, [alias.name for alias in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("carnk_ld."):
                    found.append((alias.name, [], node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        name = f"carnk_ld.{path.stem}"
        graph[name] = {module for module, _, _ in _imports(path) if module != name and module != "carnk_ld"}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_in_the_package() -> None:
    assert _cycle({k: v for k, v in _graph().items() if k != "carnk_ld.__init__"}) is None


def test_no_private_names_are_imported_across_modules() -> None:
    private = [
        f"{path.name}:{line}: {module}.{name}"
        for path in MODULES
        for module, names, line in _imports(path)
        for name in names
        if name.startswith("_")
    ]
    assert private == []


def test_library_code_reads_no_environment_variables() -> None:
    readers = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
                readers.append(f"{path.name}:{node.lineno}")
    assert readers == []
