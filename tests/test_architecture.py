"""The structure holds: no import cycle in app/, and arrows point one way.

Every import counts, at module level, inside functions and under TYPE_CHECKING alike:
a lower floor that needs a higher one is a part in the wrong room.
"""

from __future__ import annotations

import ast
from pathlib import Path

import app
from app import errors
from app.api.errors import STATUS

ROOT = Path(app.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            if target in modules:
                found.add(target)
    return found - {name}


def import_graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in ROOT.rglob("*.py")}
    modules = set(paths)
    return {name: _imports(path, name, modules) for name, path in paths.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle() -> None:
    graph = import_graph()
    # A package's __init__ re-exporting its own modules is its face, not a cycle.
    for name, deps in graph.items():
        graph[name] = {d for d in deps if not (name.startswith(d + ".") and d != "app")}
    graph["app"] = set()
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def _violations(floor: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{name} imports {dep}"
        for name, deps in import_graph().items()
        if name == floor or name.startswith(floor + ".")
        for dep in deps
        if any(dep == f or dep.startswith(f + ".") for f in forbidden)
    ]


def test_storage_imports_no_higher_floor() -> None:
    forbidden = ("app.api", "app.services", "app.jobs", "app.runtime", "app.main", "app.cli")
    assert _violations("app.storage", forbidden) == []


def test_services_import_no_routes_or_runtime() -> None:
    forbidden = ("app.api", "app.runtime", "app.main", "app.cli", "app.jobs")
    assert _violations("app.services", forbidden) == []


def test_only_the_event_log_package_reaches_its_modules() -> None:
    """Outside app.storage.events, code uses the package's face (and the backup
    family's offline tools, which work on the store's files directly)."""
    allowed_outside = {"app.storage.events.chroma", "app.storage.events.reindex"}
    found = [
        f"{name} imports {dep}"
        for name, deps in import_graph().items()
        if not name.startswith("app.storage.events")
        for dep in deps
        if dep.startswith("app.storage.events.") and dep not in allowed_outside
    ]
    assert found == []


def test_every_error_class_has_an_http_status() -> None:
    classes = [
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type)
        and issubclass(obj, errors.HearthError)
        and obj is not errors.HearthError
    ]
    mapped = [kind for kind, _status in STATUS]
    unmapped = [c.__name__ for c in classes if not any(issubclass(c, m) for m in mapped)]
    assert unmapped == []
