"""Data flows one way: core <- knowledge <- rules <- policies / tickets <- assist <- api / actions <- channels.

A package may import only packages below it (or itself). Read from the source with ast, so a late import
inside a function counts too."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# package -> the project packages it may import
ALLOWED = {
    "core": set(),
    "knowledge": {"core"},
    "rules": {"core", "knowledge"},
    "policies": {"core", "knowledge", "rules"},
    "tickets": {"core", "knowledge", "rules"},
    "handoff": {"core"},
    "assist": {"core", "knowledge", "rules", "policies", "tickets"},
    "api": {"core", "knowledge", "rules", "policies", "tickets", "assist", "handoff"},
    "actions": {"core", "knowledge", "rules", "policies", "tickets", "assist", "handoff"},
    "channels": {"core", "handoff", "assist", "tickets", "knowledge"},
}
PROJECT = set(ALLOWED) | {"bot", "bench", "migrations", "tests"}
INFRASTRUCTURE = {"migrations"}  # the schema upgrade any store may run on start
# the one process that composes the service API with the gateway channels
COMPOSITION_ROOTS = {"api/app.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out & PROJECT


def test_each_package_imports_only_the_layers_below_it():
    wrong = []
    for pkg, allowed in ALLOWED.items():
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if str(path.relative_to(ROOT)) in COMPOSITION_ROOTS:
                continue
            for name in _imports(path) - allowed - {pkg} - INFRASTRUCTURE:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, "\n".join(wrong)


# packages above the knowledge store that read it only through its read API (knowledge.query and its views):
# never the ORM models, nor the builder; rules/ does no SQL at all (tickets keeps its own tables in SQL)
READ_API_ONLY = {"rules": ("knowledge.models", "knowledge.ingest", "sqlalchemy"),
                 "tickets": ("knowledge.models", "knowledge.ingest")}


def _modules(path: Path) -> set[str]:
    """Every module a file imports, with the names imported from it (from knowledge import models ->
    knowledge.models)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def test_rules_and_tickets_read_knowledge_through_the_read_api():
    wrong = []
    for pkg, banned in READ_API_ONLY.items():
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for mod in sorted(_modules(path)):
                if any(mod == b or mod.startswith(b + ".") for b in banned):
                    wrong.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert not wrong, "\n".join(wrong)
