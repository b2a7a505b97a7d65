"""The shape every service shares, checked on the source so it does not drift:
one ``api/deps.py`` per service, keyword-only arguments past the second, no import
circles, no service reaching into another, and tools, benchmarks and the standalone
launcher using only the packages' public entry points."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "gateway": ROOT / "gateway" / "gateway",
    "matters": ROOT / "services" / "matters" / "matters",
    "intake": ROOT / "services" / "intake" / "intake",
    "license": ROOT / "services" / "license" / "license",
    "data_exchange": ROOT / "services" / "data-exchange" / "data_exchange",
    "supervision": ROOT / "services" / "supervision" / "supervision",
    "yiwang_platform": ROOT / "libs" / "platform" / "yiwang_platform",
}
SERVICES = [name for name in PACKAGES if name != "yiwang_platform"]
# What tools, benchmarks and the standalone launcher may import of a service: its app
# factory, its settings, and the gateway's operator commands.
PUBLIC = {"main", "settings", "admin"}


def modules(package: str) -> Iterator[tuple[str, Path, ast.Module]]:
    root = PACKAGES[package]
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join((package, *parts)).removesuffix(".__init__")
        yield name, path, ast.parse(path.read_text(), str(path))


def imports(tree: ast.AST) -> Iterator[str]:
    """Every module a module imports: at its top, inside a function, or only for the type
    checker (an import moved out of the way of a circle still closes it)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize("package", SERVICES)
def test_each_service_has_one_dependency_module(package: str) -> None:
    api = PACKAGES[package] / "api"
    assert (api / "deps.py").is_file()
    others = {"dependencies.py", "access.py", "staff.py", "cursors.py"}
    assert sorted(p.name for p in api.glob("*.py") if p.name in others) == []


# Signatures another library fixes: Alembic's render hook; the ``publish`` a test
# fixture hands out mirrors an event's topic, type and key; the routes the platform's
# checkpoint router builds (FastAPI passes their parameters by name).
FIXED_SIGNATURES = {
    "yiwang_platform.migrations": {"_render_item"},
    "yiwang_platform.testing": {"publish"},
    "yiwang_platform.audit_checkpoints": {"list_checkpoints", "verify_chain"},
}


@pytest.mark.parametrize("package", list(PACKAGES))
def test_arguments_past_the_second_are_keyword_only(package: str) -> None:
    # Route functions are exempt: FastAPI passes their parameters by name.
    offenders = []
    for name, path, tree in modules(package):
        if ".api.routes" in name:
            continue
        fixed = FIXED_SIGNATURES.get(name, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                positional = [
                    a.arg
                    for a in node.args.posonlyargs + node.args.args
                    if a.arg not in ("self", "cls")
                ]
                if (
                    len(positional) > 2
                    and not node.name.startswith("__")
                    and node.name not in fixed
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert offenders == []


@pytest.mark.parametrize("package", list(PACKAGES))
def test_no_import_circles(package: str) -> None:
    graph: dict[str, set[str]] = {}
    for name, _, tree in modules(package):
        graph[name] = set()
        graph[name].update(imports(tree))
    known = set(graph)
    edges = {m: {i for i in found if i in known and i != m} for m, found in graph.items()}

    circles: list[list[str]] = []
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            circles.append([*trail[trail.index(module) :], module])
            return
        if module in done:
            return
        for nxt in sorted(edges[module]):
            visit(nxt, [*trail, module])
        done.add(module)

    for module in sorted(edges):
        visit(module, [])
    # A package's __init__ re-exporting its modules is not a circle of logic.
    circles = [c for c in circles if not any(m == package or m.endswith(".__init__") for m in c)]
    assert circles == []


@pytest.mark.parametrize("package", SERVICES)
def test_services_share_contracts_not_code(package: str) -> None:
    others = {p for p in SERVICES if p != package}
    reaching = [
        f"{name} imports {imported}"
        for name, _, tree in modules(package)
        for imported in imports(tree)
        if imported.split(".")[0] in others
    ]
    assert reaching == []


def test_tools_benchmarks_and_standalone_use_public_entry_points() -> None:
    reaching = []
    for folder in ("tools", "bench", "standalone"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "tests" in path.parts:
                continue  # a test may look at a service's tables to check what it did
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for imported in names:
                    top, _, rest = imported.partition(".")
                    if top in SERVICES and rest and rest.split(".")[0] not in PUBLIC:
                        reaching.append(f"{path.relative_to(ROOT)}:{node.lineno} {imported}")
    assert reaching == []
