"""Where the tests find the repository and their fixtures, wherever a test file sits."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository's root: README.md, pyproject.toml, bench/, docs/."""
FIXTURES = ROOT / "tests" / "fixtures"
"""Ledgers and files made by older code (tests/fixtures/make_format1.py)."""
