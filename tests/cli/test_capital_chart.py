"""`report capital --chart` and the chart beside `report summary` in a wide terminal."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from rich.console import Console

import cli.report
from cli.quarter import capital_chart, wide_terminal
from projections import reports
from projections.books import replay
from tests.projections.test_projections import history

D = date.fromisoformat


def render(renderable: Any, *, terminal: bool = False, width: int = 100) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=terminal, color_system=None)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def test_plain_bars_over_every_period_gaps_included() -> None:
    # The history of tests/projections/test_projections.py: C1 2020-01-01 50,000.00; C2 2020-04-01
    # 10,000.00; W1 exercised 2020-06-01 for 7,500.00 (cashless exercises bring no cash).
    report = reports.capital(replay(history().events), D("2020-12-31"), by="month")
    # Longest bar 40 characters: 67,500 -> 40; 60,000 -> floor(40 x 60,000 / 67,500 x 8) / 8
    # = 35.5 -> 35 whole characters; 50,000 -> 29.6 -> 29. Per month: 50,000 -> 40;
    # 10,000 -> 8; 7,500 -> 6.
    assert render(capital_chart(report, plain=True)) == "\n".join([
        "Cumulative gross capital raised $, by month, as of 2020-12-31",
        "2020-01 " + "#" * 29 + " " * 12 + " 50,000.00",
        "2020-02 " + "#" * 29 + " " * 12 + " 50,000.00",
        "2020-03 " + "#" * 29 + " " * 12 + " 50,000.00",
        "2020-04 " + "#" * 35 + " " * 6 + " 60,000.00",
        "2020-05 " + "#" * 35 + " " * 6 + " 60,000.00",
        "2020-06 " + "#" * 40 + " " + " 67,500.00",
        "",
        "Gross capital raised per month $",
        "2020-01 " + "#" * 40 + " " + " 50,000.00",
        "2020-02 " + " " * 41 + "      0.00",
        "2020-03 " + " " * 41 + "      0.00",
        "2020-04 " + "#" * 8 + " " * 33 + " 10,000.00",
        "2020-05 " + " " * 41 + "      0.00",
        "2020-06 " + "#" * 6 + " " * 35 + "  7,500.00",
    ])


def test_block_characters_in_a_terminal_with_eighths() -> None:
    report = reports.capital(replay(history().events), D("2020-12-31"), by="quarter")
    text = render(capital_chart(report, plain=False), terminal=True)
    lines = text.splitlines()
    # 2020-Q1: 50,000 of 67,500 -> 40 x 8 x 50,000 / 67,500 = 237.03 eighths: 29 full + 5/8
    assert lines[1].startswith("2020-Q1 " + "█" * 29 + "▋")
    assert lines[2].startswith("2020-Q2 " + "█" * 40)
    assert "#" not in text


def test_an_empty_ledger_says_so() -> None:
    report = reports.capital(replay([]), D("2020-12-31"))
    assert render(capital_chart(report, plain=True)) == "No capital raised as of 2020-12-31."


def test_only_a_real_wide_terminal_gets_the_chart_beside_the_summary() -> None:
    assert wide_terminal(Console(file=io.StringIO(), force_terminal=True, width=140))
    assert not wide_terminal(Console(file=io.StringIO(), force_terminal=True, width=100))
    assert not wide_terminal(Console(file=io.StringIO(), force_terminal=False, width=200))


SETUP = (
    ["record", "series", "A", "--date", "2020-01-01", "--stated-value", "1000",
     "--conversion-price", "2.00", "--dividend-rate", "10", "--authorized", "100"],
    ["record", "closing", "A", "--date", "2020-01-01", "--investor", "X=30", "--ref", "C1"],
    ["record", "closing", "A", "--date", "2020-04-01", "--investor", "X=10", "--ref", "C2"],
)


def test_the_cli_draws_plain_characters_in_a_pipe(fl: Any) -> None:
    for args in SETUP:
        assert fl(*args).code == 0
    r = fl("report", "capital", "--chart", "--as-of", "2020-12-31", "--by", "quarter")
    assert r.code == 0, r.err
    lines = [line.rstrip() for line in r.out.splitlines()]
    assert lines == [
        "Cumulative gross capital raised $, by quarter, as of 2020-12-31",
        "2020-Q1 " + "#" * 30 + " " * 11 + " 30,000.00",  # 30,000 / 40,000 x 40 = 30
        "2020-Q2 " + "#" * 40 + "  40,000.00",
        "",
        "Gross capital raised per quarter $",
        "2020-Q1 " + "#" * 40 + "  30,000.00",
        "2020-Q2 " + "#" * 13 + " " * 28 + " 10,000.00",  # 10,000 / 30,000 x 40 = 13.3
    ]
    # --json is the capital report as ever
    assert fl("report", "capital", "--chart", "--json").out.lstrip().startswith("{")


@pytest.mark.parametrize("no_color", [False, True])
def test_summary_beside_the_chart_in_a_wide_terminal(
    fl: Any, monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    for args in SETUP:
        assert fl(*args).code == 0
    piped = fl("report", "summary", "--as-of", "2020-12-31")
    assert "Cumulative gross" not in piped.out  # a pipe: the summary alone, as ever
    buffer = io.StringIO()
    wide = Console(file=buffer, width=150, force_terminal=True, no_color=no_color,
                   color_system=None if no_color else "standard")
    monkeypatch.setattr(cli.report, "out", lambda: wide)
    r = fl("report", "summary", "--as-of", "2020-12-31")
    assert r.code == 0, r.err
    text = buffer.getvalue()
    first = text.splitlines()[0]
    assert "Summary as of 2020-12-31" in first and "Cumulative gross capital raised $" in first
    assert ("#" in text) is no_color and ("█" in text) is not no_color
    assert Decimal("40000.00") == Decimal(text.split("Gross proceeds $")[1].split()[0].replace(",", ""))
