"""The README's test command on a newcomer's machine: the PostgreSQL half finds the local
server the way `.ci/run` does, or the summary says loudly that it did not run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests import conftest, pg


@pytest.fixture
def no_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(pg.URL_VARIABLE, raising=False)
    pg._local_server_answers.cache_clear()
    yield
    pg._local_server_answers.cache_clear()


def test_without_the_variable_the_local_server_is_used_when_it_answers(
    no_url: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried: list[str] = []

    @contextlib.contextmanager
    def answers(url: str, timeout: int = 10) -> Iterator[None]:
        tried.append(url)
        yield

    monkeypatch.setattr(pg, "connect", answers)
    assert pg.server_url() == pg.LOCAL_URL == "postgresql://postgres@127.0.0.1:5432/test"
    assert pg.base_url() == pg.LOCAL_URL and tried == [pg.LOCAL_URL]


def test_without_the_variable_or_a_server_the_tests_skip_saying_how_to_run_them(
    no_url: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuses(url: str, timeout: int = 10) -> Any:
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(pg, "connect", refuses)
    assert pg.server_url() is None
    with pytest.raises(pytest.skip.Exception, match="no server answers at postgresql://"):
        pg.base_url()


def test_the_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pg.URL_VARIABLE, "postgresql://someone@db.example:6543/x")
    assert pg.server_url() == "postgresql://someone@db.example:6543/x"


class Reporter:
    def __init__(self, stats: dict[str, list[Any]]) -> None:
        self.stats = stats
        self.lines: list[str] = []

    def write_line(self, line: str, **markup: bool) -> None:
        self.lines.append(line)

    def write_sep(self, sep: str, title: str, **markup: bool) -> None:
        self.lines.append(f"{sep * 3} {title} {sep * 3}")


class Report:
    def __init__(self) -> None:
        self.keywords = {"postgres": 1}


def test_the_summary_says_loudly_when_the_postgresql_tests_did_not_run() -> None:
    skipped = Reporter({"skipped": [Report()] * 5, "passed": []})
    conftest.pytest_terminal_summary(skipped)
    assert skipped.lines[0] == "PostgreSQL tests: 0 passed, 0 failed, 0 error, 5 skipped"
    assert "the 5 PostgreSQL tests did NOT run" in skipped.lines[1]
    assert pg.URL_VARIABLE in skipped.lines[2] and "127.0.0.1:5432" in skipped.lines[2]
    ran = Reporter({"passed": [Report()] * 5})
    conftest.pytest_terminal_summary(ran)
    assert ran.lines == ["PostgreSQL tests: 5 passed, 0 failed, 0 error, 0 skipped"]
