"""Shared fixtures: a fresh ledger target per test, and the CLI run in-process.

`db` is parametrized over the backends, so every test that takes it runs once per backend
(the PostgreSQL half skips with a reason where no server is configured).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import settings

from cli.main import run

# CI (CI=true) explores the same examples on every run: a submission lands or not on its own
# merits, not on the draw; a developer's runs keep drawing new ones (and keep what they find).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@dataclass
class Result:
    code: int
    out: str
    err: str


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run `finledger ARGS` in this process and capture exit code, stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    code = 0
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                run(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return Result(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """A fresh, empty ledger target for one backend (PostgreSQL: a schema of its own)."""
    if request.param == "sqlite":
        yield os.path.join(str(tmp_path), "ledger.db")
        return
    if request.param == "postgres":
        from tests.pg import fresh_ledger_url

        with fresh_ledger_url() as url:
            yield url
        return
    raise AssertionError(request.param)


@pytest.fixture
def fl(db: str) -> object:
    """`fl("record", "series", ...)` runs finledger against this test's ledger."""

    def call(*args: str, env: dict[str, str] | None = None) -> Result:
        return invoke("--db", db, *args, env=env)

    return call


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("FINLEDGER_DB", "FINLEDGER_KEY", "FINLEDGER_ACTOR", "FINLEDGER_LEDGER", "NO_COLOR",
                "COLUMNS",
                "FORCE_COLOR"):
        monkeypatch.delenv(key, raising=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many PostgreSQL tests ran, so a CI log shows they were not all skipped."""
    counts = {
        outcome: sum(1 for report in terminalreporter.stats.get(outcome, [])
                     if "postgres" in getattr(report, "keywords", {}))
        for outcome in ("passed", "failed", "error", "skipped")
    }
    if any(counts.values()):
        terminalreporter.write_line(
            "PostgreSQL tests: " + ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
        )
    if counts["skipped"] and not counts["passed"]:
        from tests.pg import HOW_TO_RUN

        terminalreporter.write_sep(
            "!", f"the {counts['skipped']} PostgreSQL tests did NOT run", red=True, bold=True)
        terminalreporter.write_line(f"To run them: {HOW_TO_RUN}.", red=True, bold=True)
