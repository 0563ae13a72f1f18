"""The layering rules that import-linter cannot express, checked by reading the source."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.paths import ROOT

PACKAGES = ("events", "ledger", "projections", "app", "cli")
UI_LIBRARIES = ("rich", "typer", "click")


def imported_modules(path: Path) -> Iterator[str]:
    """Every module a file imports, relative imports resolved to their top package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                yield path.relative_to(ROOT).parts[0]
            elif node.module:
                yield node.module


def top(module: str) -> str:
    return module.split(".", maxsplit=1)[0]


def python_files(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def test_events_imports_the_standard_library_only() -> None:
    files = python_files("events")
    assert files
    outside = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in files
        for module in imported_modules(path)
        if top(module) != "events"
        and top(module) not in sys.stdlib_module_names
    }
    assert not outside


def test_rich_and_typer_are_imported_under_cli_only() -> None:
    files = python_files(*(p for p in PACKAGES if p != "cli"))
    assert files
    offenders = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in files
        for module in imported_modules(path)
        if top(module) in UI_LIBRARIES
    }
    assert not offenders


def test_the_checker_sees_imports() -> None:
    # guard against a checker that passes because it reads nothing
    modules = set(imported_modules(ROOT / "cli" / "record.py"))
    assert "typer" in modules
    assert "app.commands" in modules
