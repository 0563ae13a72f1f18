"""No figure is ever cut: every report, at every width, shows each figure its --json prints
whole; lines carry no trailing spaces; a pipe honours COLUMNS; NO_COLOR means no escape codes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import invoke

WIDTHS = (40, 60, 80, 120, 200)

HISTORY = [
    ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
     "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444",
     "--par-value", "0.001"],
    ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
     "--investor", "SCO Capital Partners=150", "--investor", "SDS Merchant Fund=100",
     "--investor", "Xmark Funds=100", "--investor", "ProMed Partners, L.P.=94"],
    ["record", "warrants", "--holder", "SCO Capital Partners", "--shares", "944681",
     "--exercise-price", "3.00", "--date", "2003-05-08", "--closing", "D-1",
     "--label", "Series D-1", "--ref", "W-D1-300", "--expires", "2008-05-08"],
    ["record", "warrants", "--holder", "Series D investors", "--shares", "331914",
     "--exercise-price", "3.50", "--date", "2003-05-14", "--label", "Series D-2",
     "--ref", "W-D2-350"],
    ["record", "authorization", "Series D", "--shares", "156", "--date", "2003-05-14"],
    ["record", "closing", "Series D", "--date", "2003-05-14", "--ref", "D-2", "--fees", "1250.50",
     "--investor", "SCO Capital Partners=156"],
    ["record", "exercise", "W-D1-300", "--shares", "10000", "--date", "2004-01-15"],
    ["record", "exercise", "W-D1-300", "--shares", "10000", "--date", "2004-02-02",
     "--cashless", "--market-price", "4.10"],
    ["record", "dividend", "Series D", "--through", "2003-06-30", "--date", "2003-07-01",
     "--form", "stock", "--price", "3.10"],
    ["record", "conversion", "Series D", "--holder", "SCO Capital Partners", "--shares", "20",
     "--date", "2003-09-02"],
    ["record", "common-outstanding", "3108100", "--date", "2003-05-09"],
    ["record", "transfer", "Series D", "--from", "SCO Capital Partners", "--to",
     "A Fund With A Rather Long Name, L.P.", "--shares", "140", "--date", "2003-10-01"],
    ["record", "warrant-transfer", "W-D1-300", "--to", "A Fund With A Rather Long Name, L.P.",
     "--shares", "100000", "--date", "2003-10-01", "--ref", "W-D1-300-A"],
    ["record", "redemption", "Series D", "--holder", "ProMed Partners, L.P.", "--shares", "10",
     "--date", "2003-11-03"],
    ["record", "warrants", "--holder", "Xmark Funds", "--shares", "5000", "--exercise-price",
     "4.00", "--date", "2003-06-01", "--exercisable-from", "2003-12-01", "--ref", "W-LATER"],
]
# Terms that change (DOMAIN.md 12-14), for the tables that show them.
TERMS_HISTORY = [
    *HISTORY,
    ["record", "adjustment", "--warrant", "W-D2-350", "--exercise-price", "3.25", "--shares",
     "357292", "--date", "2004-03-01", "--reason", "board"],
    ["record", "split", "--new", "1", "--old", "25", "--date", "2004-04-01"],
]
TERMS_REPORTS = ("terms", "warrants", "warrants-market", "preferred", "summary")

REPORTS = {
    "preferred": ["report", "preferred", "--as-of", "2004-06-30"],
    "warrants": ["report", "warrants", "--as-of", "2004-06-30"],
    "warrants-market": ["report", "warrants", "--as-of", "2004-06-30", "--market-price", "4.10"],
    "capital": ["report", "capital", "--as-of", "2004-06-30", "--by", "quarter"],
    "summary": ["report", "summary", "--as-of", "2004-06-30"],
    "summary-current": ["report", "summary"],
    "dividends": ["report", "dividends", "--as-of", "2004-06-30", "--price", "4.10"],
    "eps": ["report", "eps", "--from", "2004-01-01", "--to", "2004-03-31", "--net-income",
            "1500000", "--average-price", "4.10"],
    "terms": ["report", "terms", "--as-of", "2004-06-30"],
    "holder": ["report", "holder", "A Fund With A Rather Long Name, L.P.", "--as-of",
               "2004-06-30"],
    "audit-replay": ["audit", "replay"],
    "audit-verify": ["audit", "verify"],
}


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> str:
    target = str(tmp_path_factory.mktemp("widths") / "l.db")
    for command in HISTORY:
        r = invoke("--db", target, *command)
        assert r.code == 0, (command, r.err)
    return target


def run(target: str, args: list[str], width: int, **env: str) -> str:
    r = invoke("--db", target, *args, env={"COLUMNS": str(width), **env})
    assert r.code == 0, r.err
    return r.out


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


def figures(value: Any) -> Iterator[list[str]]:
    """Each figure in a JSON document, as the ways a table may write it."""
    if isinstance(value, dict):
        for item in value.values():
            yield from figures(item)
    elif isinstance(value, list):
        for item in value:
            yield from figures(item)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        yield [f"{value:,}"]
    elif isinstance(value, str) and (_DATE.match(value) or _HASH.match(value)):
        yield [value]
    elif isinstance(value, str) and _DECIMAL.match(value):
        number = Decimal(value)
        yield sorted({f"{number:,}", f"{number.quantize(Decimal('0.01')):,}"}
                     if number.as_tuple().exponent > -2 else {f"{number:,}"})  # type: ignore[operator]


def whole(text: str, figure: str) -> bool:
    """The figure, not a piece of a longer one (`4,440` is not in `4,440,000.00`)."""
    return re.search(rf"(?<![\d.])(?<!\d,){re.escape(figure)}(?!,?\d)(?!\.\d)", text) \
        is not None


# What a --json carries that its table does not show at any width, by design (and checked to
# be absent from the widest table too, so this list cannot hide a cut figure):
NOT_IN_TABLE = {
    "capital": {"position"},  # the event's position: `log` shows it
    "summary": {"issued", "exercised", "expired", "adjusted"},  # of the warrants: `report warrants`
}
NOT_IN_TABLE["summary-current"] = NOT_IN_TABLE["summary"]
# The exact share-days behind each weighted average (the note shows the averages), and a
# warrant's add-back, which is always nothing (the note lists add-backs of series only).
NOT_IN_TABLE["eps"] = {"common_share_days", "diluted_share_days", "share_days", "add_back"}


def shown(name: str, data: Any) -> Any:
    """The JSON without the keys its table does not show."""
    leave_out = NOT_IN_TABLE.get(name, set())
    if isinstance(data, dict):
        return {k: shown(name, v) for k, v in data.items() if k not in leave_out}
    if isinstance(data, list):
        return [shown(name, v) for v in data]
    return data


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize("width", WIDTHS)
def test_every_figure_of_the_json_is_shown_whole_at_every_width(
    ledger: str, name: str, width: int
) -> None:
    args = REPORTS[name]
    data = shown(name, json.loads(run(ledger, [*args, "--json"], 200)))
    text = run(ledger, args, width)
    missing = [forms for forms in figures(data) if not any(whole(text, f) for f in forms)]
    assert not missing, f"{name} at {width}: {missing[:5]} not whole in\n{text}"
    lines = text.splitlines()
    assert all(line == line.rstrip() for line in lines), "trailing spaces"
    too_wide = [line for line in lines if len(line) > width and not re.search("[0-9a-f]{64}", line)]
    assert not too_wide, f"{name} at {width}: lines wider than the width: {too_wide[:3]}"


def test_what_the_tables_leave_out_is_not_shown_at_full_width_either(ledger: str) -> None:
    for name, keys in NOT_IN_TABLE.items():
        data = json.loads(run(ledger, [*REPORTS[name], "--json"], 200))
        text = run(ledger, REPORTS[name], 1000)
        left_out = [forms for key in keys for forms in figures(_values(data, key))]
        assert left_out and any(not any(whole(text, f) for f in forms) for forms in left_out)


def _values(data: Any, key: str) -> list[Any]:
    if isinstance(data, dict):
        return [v for k, v in data.items() if k == key] + [
            x for v in data.values() for x in _values(v, key)]
    if isinstance(data, list):
        return [x for v in data for x in _values(v, key)]
    return []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_log_shows_at_every_width_every_figure_it_shows_at_full_width(
    ledger: str, width: int
) -> None:
    """The log's table summarizes each event (its --json holds every stored field): what the
    widest layout shows, and each position and date, every layout shows whole."""
    full = run(ledger, ["log"], 1000)
    text = run(ledger, ["log"], width)
    entries = json.loads(run(ledger, ["log", "--json"], 200))
    for entry in entries:  # the recording time is in an optional column (a note says so)
        full = full.replace(entry["recorded_at"][:19].replace("T", " "), "")
    numbers = set(re.findall(r"\d{4}-\d{2}-\d{2}|(?<![\d,.])\d[\d,]*(?:\.\d+)?", full))
    numbers |= {str(e["position"]) for e in entries} | {e["effective_date"] for e in entries}
    missing = sorted(n for n in numbers if not whole(text, n))
    assert not missing, f"log at {width}: {missing[:5]} not whole in\n{text}"
    assert all(line == line.rstrip() for line in text.splitlines())
    assert all(len(line) <= width for line in text.splitlines())


def test_a_narrow_warrant_table_names_what_it_leaves_out_or_goes_one_record_per_row(
    ledger: str
) -> None:
    at_200 = run(ledger, REPORTS["warrants"], 200)
    assert "Holder" in at_200 and "not shown" not in at_200
    at_40 = run(ledger, REPORTS["warrants"], 40)
    # One record per row: each warrant's label and holder are still there, beside their names.
    assert re.search(r"^  Holder +SCO Capital Partners$", at_40, re.M)
    assert re.search(r"^  Outstanding +924,681$", at_40, re.M)


def test_a_pipe_is_as_wide_as_columns_says(ledger: str) -> None:
    for width in (50, 90):
        text = run(ledger, REPORTS["capital"], width)
        assert max(len(line) for line in text.splitlines()) <= width
    wide = invoke("--db", ledger, *REPORTS["capital"])  # no COLUMNS: the fixed pipe width
    assert max(len(line) for line in wide.out.splitlines()) > 90


@pytest.mark.parametrize("name", ["preferred", "warrants", "capital", "summary"])
def test_no_color_means_no_escape_codes_at_all(ledger: str, name: str) -> None:
    styled = run(ledger, REPORTS[name], 120, FORCE_COLOR="1")
    assert "\x1b[" in styled  # a terminal gets bold totals and coloured headers
    plain = run(ledger, REPORTS[name], 120, FORCE_COLOR="1", NO_COLOR="1")
    assert "\x1b" not in plain
    assert plain == run(ledger, REPORTS[name], 120)


def test_emit_fits_any_table_a_report_builds() -> None:
    """The layout is a function of any rich table (new reports get it by going through
    `cli.tables.emit`): a wide one with long words comes out whole at 30 columns."""
    import io

    from rich.console import Console
    from rich.table import Table

    from cli.tables import emit, optional

    table = Table(title="A new report")
    table.add_column("Name")
    table.add_column("Note")
    for header in ("Alpha $", "Beta", "Gamma shares"):
        table.add_column(header, justify="right", no_wrap=True)
    optional(table, "Note")
    table.add_row("A long holder name, L.P.", "free text " * 5, "1,234,567.89", "12", "987,654")
    for width in (30, 50, 80):
        buffer = io.StringIO()
        emit(Console(file=buffer, width=width, color_system=None), table)
        text = buffer.getvalue()
        for figure in ("1,234,567.89", "12", "987,654"):
            assert whole(text, figure), (width, text)
        assert all(len(line) <= width and line == line.rstrip() for line in text.splitlines())


@pytest.mark.parametrize("width", [60, 80])
def test_the_demo_fits_the_width_too(tmp_path_factory: pytest.TempPathFactory, width: int) -> None:
    target = str(tmp_path_factory.mktemp("demo") / "demo.db")
    text = run(target, ["demo"], width)
    assert all(line == line.rstrip() for line in text.splitlines())
    for report in (["report", "summary"], ["report", "warrants"]):
        data = json.loads(run(target, [*report, "--as-of", "2003-05-14", "--json"], 200))
        missing = [forms for forms in figures(shown(report[1], data))
                   if not any(whole(text, f) for f in forms)]
        assert not missing, (width, missing)


@pytest.fixture(scope="module")
def terms_ledger(tmp_path_factory: pytest.TempPathFactory) -> str:
    target = str(tmp_path_factory.mktemp("widths-terms") / "l.db")
    for command in TERMS_HISTORY:
        r = invoke("--db", target, *command)
        assert r.code == 0, (command, r.err)
    return target


@pytest.mark.parametrize("name", TERMS_REPORTS)
@pytest.mark.parametrize("width", WIDTHS)
def test_terms_that_changed_are_shown_whole_at_every_width(
    terms_ledger: str, name: str, width: int
) -> None:
    test_every_figure_of_the_json_is_shown_whole_at_every_width(terms_ledger, name, width)


# --- the plain drawing of a table that fits: line for line what rich draws -----------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from rich import box as boxes  # noqa: E402
from rich.console import Console, Group  # noqa: E402
from rich.table import Table  # noqa: E402
from rich.text import Text  # noqa: E402


def _console(width: int) -> Console:
    import io

    return Console(file=io.StringIO(), width=width, highlight=False, soft_wrap=False,
                   color_system=None)


def _lines(text: str) -> list[str]:
    """What `emit` writes of a drawing: its lines without trailing blanks."""
    return [line.rstrip() for line in text.splitlines()]


def _by_rich(console: Console, table: Table) -> list[str]:
    with console.capture() as captured:
        console.print(table, crop=False)
    return _lines(captured.get())


def _tables(report: Any) -> Iterator[Table]:
    if isinstance(report, Table):
        yield report
    elif isinstance(report, Group):
        for part in report.renderables:
            yield from _tables(part)


def _report_tables() -> list[Table]:
    from datetime import date

    from cli import render
    from events.codec import log_entry
    from projections import reports
    from projections.books import replay
    from tests.projections.test_projections import history

    book = history()
    books = replay(book.events)
    on = date(2020, 12, 31)
    drawn = [
        render.preferred_table(reports.preferred(books, on)),
        render.warrants_tables(reports.warrants(books, on)),
        render.warrants_tables(reports.warrants(books, on, Decimal("4.10"))),
        render.capital_tables(reports.capital(books, on, by="quarter")),
        render.summary_table(reports.summary(books, on)),
        render.log_table([log_entry(e, 3 if e.originator_version == 2 else None)
                          for e in book.events]),
    ]
    return [table for part in drawn for table in _tables(part)]


@pytest.mark.parametrize("width", [*WIDTHS, 160, 1000])
def test_report_tables_drawn_plainly_are_what_rich_draws(width: int) -> None:
    from cli.tables import fit, plain_table

    drawn = fitted = 0
    for table in _report_tables():
        console = _console(width)
        plain = plain_table(console, table)
        if plain is not None:
            drawn += 1
            assert _lines(plain) == _by_rich(console, table)
        for part in _tables(fit(console, table, width)):  # the layouts `fit` chooses too
            plain = plain_table(console, part)
            if plain is not None:
                fitted += 1
                assert _lines(plain) == _by_rich(console, part)
    if width >= 160:
        assert drawn == len(_report_tables())  # every report table fits a wide pipe
    if width == 80:
        assert fitted > drawn  # some are wrapped to fit, and drawn plainly too


words = st.text(alphabet=st.sampled_from("ab $.,-:[/ é漢"), max_size=12)  # no tags
cells = st.one_of(words, words.map(Text), st.lists(words, min_size=2, max_size=3)
                  .map("\n".join))


@st.composite
def random_tables(draw: st.DrawFn) -> Table:
    table = Table(
        title=draw(st.one_of(st.none(), words)), caption=draw(st.one_of(st.none(), cells)),
        title_justify=draw(st.sampled_from(["left", "center", "right"])),
        box=draw(st.sampled_from([boxes.SIMPLE_HEAD, boxes.HEAVY_HEAD, boxes.ASCII, None])),
        show_edge=draw(st.booleans()), show_header=draw(st.booleans()),
        padding=draw(st.sampled_from([(0, 1, 0, 0), (0, 1), (0, 0, 0, 0), (0, 2, 0, 1)])),
        min_width=draw(st.one_of(st.none(), st.integers(1, 60))),
    )
    count = draw(st.integers(1, 5))
    for _ in range(count):
        table.add_column(draw(cells), justify=draw(st.sampled_from(["left", "right"])),
                         no_wrap=draw(st.booleans()),
                         min_width=draw(st.one_of(st.none(), st.integers(0, 8))),
                         width=draw(st.one_of(st.none(), st.integers(1, 12))),
                         overflow=draw(st.sampled_from(["fold", "ellipsis"])))
    for _ in range(draw(st.integers(0, 6))):
        table.add_row(*draw(st.lists(cells, min_size=count, max_size=count)),
                      end_section=draw(st.booleans()))
    return table


@settings(max_examples=300, deadline=None)
@given(random_tables(), st.integers(10, 200))
def test_random_tables_drawn_plainly_are_what_rich_draws(table: Table, width: int) -> None:
    from cli.tables import plain_table

    console = _console(width)
    plain = plain_table(console, table)
    if plain is not None:
        assert _lines(plain) == _by_rich(console, table)
