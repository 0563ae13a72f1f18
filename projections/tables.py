"""Every report described once: named tables of typed rows.

A report builder (`projections.reports`) returns its document, the typed rows `--json`
prints. Here each report is also described as flat tables, each a name, typed columns and
rows, and every other output is drawn from that one description: `--csv` writes the rows as
JSON writes the figures, `-o FILE.xlsx` stores them as numbers, dates and text with a format
per kind, and a report without a hand-drawn table is printed table by table. Wiring a new
report is one function here (`document -> tables`) and one entry in `DESCRIBE`.

Nothing here formats for people (no thousands separators, no currency signs): that is the
renderers' business, and the kind of each column is what they need to do it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from projections.reports import fields_of, to_json

if TYPE_CHECKING:
    from projections.dividends import DividendsReport
    from projections.eps import EpsReport
    from projections.holder import HolderReport
    from projections.reports import CapitalReport, PreferredReport, SummaryReport, WarrantsReport
    from projections.terms import TermsReport


class Kind(StrEnum):
    """What a column holds, which is all an output needs to know to store or draw it."""

    TEXT = "text"
    SHARES = "shares"  # whole shares (int)
    INTEGER = "integer"  # a count or a position (int), never summed as money
    MONEY = "money"  # cents (Decimal)
    PRICE = "price"  # a price per share as recorded (Decimal, any number of places)
    PERCENT = "percent"  # a rate in percent (Decimal: 8 is 8%)
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    JSON = "json"  # nested data, written as one compact JSON text


NUMERIC = frozenset({Kind.SHARES, Kind.INTEGER, Kind.MONEY, Kind.PRICE, Kind.PERCENT})


@dataclass(frozen=True)
class Column:
    key: str
    kind: Kind
    title: str = ""

    @property
    def heading(self) -> str:
        return self.title or self.key.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Table:
    """One table of a report: its name (a sheet, a CSV block), its columns, its rows (each a
    report's typed row or a mapping, read by column key as `values`: Decimal, int, date, str,
    bool or None)."""

    name: str
    columns: tuple[Column, ...]
    rows: tuple[Any, ...]

    def values(self, row: Any) -> list[Any]:
        fields = _mapping(row)
        return [fields.get(column.key) for column in self.columns]


@dataclass(frozen=True)
class Described:
    """A report ready for any output: its title, the date it is as of (None for the log),
    its document (what `--json` prints) and its tables."""

    title: str
    as_of: date | None
    document: Any
    tables: tuple[Table, ...]


def _mapping(row: Any) -> Mapping[str, Any]:
    return row if isinstance(row, Mapping) else fields_of(row)


def table(name: str, rows: Iterable[Any], *columns: tuple[str, Kind]) -> Table:
    """The table of `rows` (typed rows of a report, or mappings) in these columns."""
    return Table(name, tuple(Column(key, kind) for key, kind in columns), tuple(rows))


# --- the reports -----------------------------------------------------------------------------

T, S, N, M, P, R, D, B = (Kind.TEXT, Kind.SHARES, Kind.INTEGER, Kind.MONEY, Kind.PRICE,
                          Kind.PERCENT, Kind.DATE, Kind.BOOL)


def preferred_tables(report: PreferredReport) -> tuple[Table, ...]:
    figures = (("issued", S), ("converted", S), ("redeemed", S), ("outstanding", S),
               ("stated_value_outstanding", M), ("accrued_dividends", M),
               ("as_converted_common", S))
    series = table("series", report.series, ("series", T), ("stated_value", P),
                   ("conversion_price", P), ("dividend_rate", R), ("cumulative", B),
                   ("dividends_through", D), ("authorized", S), *figures)
    holders = table("holders", (
        {"series": s.series, **fields_of(h)} for s in report.series for h in s.holders
    ), ("series", T), ("holder", T), *figures)
    return series, holders


def _market(report: WarrantsReport) -> tuple[tuple[str, Kind], ...]:
    return (("in_the_money", S), ("treasury_shares", S)) if report.market_price is not None \
        else ()


def warrants_tables(report: WarrantsReport) -> tuple[Table, ...]:
    counts = (("issued", S), ("exercised", S), ("transferred", S), ("expired", S),
              ("adjusted", S), ("outstanding", S), ("potential_proceeds", M), *_market(report))
    return (
        table("warrants", report.warrants, ("ref", T), ("label", T), ("holder", T),
              ("closing", T), ("issued_on", D), ("exercisable_from", D), ("expires", D),
              ("exercise_price", P), *counts),
        table("by_price", report.by_price, ("exercise_price", P), ("outstanding", S),
              ("potential_proceeds", M), *_market(report)),
        table("by_closing", report.by_closing, ("closing", T), *counts),
    )


def capital_tables(report: CapitalReport) -> tuple[Table, ...]:
    return (
        table("entries", report.entries, ("date", D), ("source", T), ("ref", T),
              ("security", T), ("position", N), ("gross", M), ("fees", M), ("net", M),
              ("cumulative_gross", M)),
        table("periods", report.periods, ("period", T), ("gross", M), ("fees", M),
              ("net", M)),
    )


def summary_tables(report: SummaryReport) -> tuple[Table, ...]:
    return (
        table("capital", [report.capital], ("gross", M), ("fees", M), ("net", M)),
        table("preferred", [report.preferred], ("outstanding", S),
              ("stated_value_outstanding", M), ("accrued_dividends", M),
              ("as_converted_common", S)),
        table("warrants", [report.warrants], ("issued", S), ("exercised", S),
              ("expired", S), ("outstanding", S), ("potential_proceeds", M)),
        table("fully_diluted", [report.fully_diluted], ("baseline", S),
              ("baseline_date", D), ("issued_since_baseline", S), ("common_outstanding", S),
              ("as_converted_preferred", S), ("warrants", S), ("total", S)),
    )


def dividends_tables(report: DividendsReport) -> tuple[Table, ...]:
    preview = (("next_common_shares", S), ("next_cash_in_lieu", M)) if any(
        row.preview is not None for row in report.series) else ()
    series = table("series", report.series, ("series", T), ("frequency", T),
                   ("cumulative", B), ("dividend_rate", R), ("dividend_form", T),
                   ("last_through", D), ("next_through", D), ("next_amount", M), *preview,
                   ("arrears_through", D), ("arrears", M), ("dividends_declared", N),
                   ("paid_cash", M), ("paid_common_shares", S), ("paid_cash_in_lieu", M))
    holders = table("holders", (
        {"series": s.series, **fields_of(h)} for s in report.series for h in s.holders
    ), ("series", T), ("holder", T), ("next_amount", M), *preview, ("arrears", M))
    return series, holders


def eps_tables(report: EpsReport) -> tuple[Table, ...]:
    figures = table("eps", [report], ("from", D), ("to", D), ("days", N),
                    ("net_income", M), ("preferred_dividends", M), ("income_to_common", M),
                    ("weighted_average_common", S), ("basic_eps", M), ("diluted_income", M),
                    ("diluted_weighted_average", S), ("diluted_eps", M),
                    ("average_price", P))
    preferred = table("preferred_dividends", report.preferred, ("series", T),
                      ("cumulative", B), ("amount", M))
    securities = table("securities", (
        {"treatment": treatment, **fields_of(row)}
        for treatment, rows in (("dilutive", report.dilutive),
                                ("anti-dilutive", report.anti_dilutive))
        for row in rows
    ), ("treatment", T), ("security", T), ("method", T), ("price", P),
        ("incremental_shares", S), ("add_back", M), ("reason", T))
    return figures, preferred, securities


def terms_tables(report: TermsReport) -> tuple[Table, ...]:
    """`report terms`: the prices in force, and each one's history (a row per change)."""
    series = table("series", report.series, ("series", T), ("conversion_price", P),
                   ("anti_dilution", T), ("price_floor", P))
    warrants = table("warrants", report.warrants, ("ref", T), ("holder", T),
                     ("exercise_price", P), ("outstanding", S), ("adjusted", S),
                     ("anti_dilution", T), ("price_floor", P))
    history = table("history", (
        {"instrument": kind, "name": name, **fields_of(change)}
        for kind, name, history in (*(("series", s.series, s.history) for s in report.series),
                                    *(("warrant", w.ref, w.history) for w in report.warrants))
        for change in history
    ), ("instrument", T), ("name", T), ("effective_date", D), ("position", N),
        ("cause", T), ("price", P), ("adjusted", S))
    return series, warrants, history

def holder_tables(report: HolderReport) -> tuple[Table, ...]:
    return (
        table("preferred", report.preferred, ("series", T), ("lot", T), ("origin", T),
              ("closing", T), ("issued_on", D), ("accrual_start", D), ("shares", S),
              ("accrued_dividends", M)),
        table("warrants", report.warrants, ("ref", T), ("exercise_price", P),
              ("expires", D), ("outstanding", S)),
        table("common_received", [report.common_received], ("conversions", S),
              ("stock_dividends", S), ("exercises", S), ("closings", S), ("total", S)),
        table("cash_received", [report.cash_received], ("dividends", M),
              ("cash_in_lieu", M), ("redemptions", M), ("total", M)),
        table("history", report.history, ("position", N), ("effective_date", D),
              ("type", T), ("summary", T)),
    )


def log_tables(entries: Sequence[Mapping[str, Any]]) -> tuple[Table, ...]:
    """`log`: one row per event as `log --json` shows it (its data as one JSON text)."""
    return (table("events", entries, ("position", N), ("type", T), ("effective_date", D),
                  ("recorded_at", Kind.DATETIME), ("actor", T), ("data", Kind.JSON),
                  ("reversed_by", N), ("prev_hash", T), ("hash", T),
                  ("source", Kind.JSON)),)


DESCRIBE: dict[str, tuple[str, Callable[[Any], tuple[Table, ...]]]] = {
    "preferred": ("Outstanding preferred", preferred_tables),
    "warrants": ("Warrant overhang", warrants_tables),
    "capital": ("Capital raised", capital_tables),
    "summary": ("Summary", summary_tables),
    "dividends": ("Dividends", dividends_tables),
    "eps": ("Earnings per share", eps_tables),
    "terms": ("Terms in force", terms_tables),
    "holder": ("Holder {holder}", holder_tables),
}
"""Report name -> (title, its tables). A new report adds one line. A title may name a
field of its report (`{holder}`)."""


def describe(name: str, report: Any) -> Described:
    """The report `name` (its typed rows, as its builder returned them) described."""
    title, tables_of = DESCRIBE[name]
    fields = fields_of(report)
    return Described(title.format_map(fields), fields.get("as_of"), report, tables_of(report))


def describe_log(entries: Sequence[Mapping[str, Any]]) -> Described:
    return Described("Ledger events", None, list(entries), log_tables(entries))


# --- cells as JSON writes them -----------------------------------------------------------------


def plain(value: Any) -> str:
    """One cell as CSV writes it: the figure exactly as `--json` writes it (exact decimals,
    integer shares, ISO dates), nested data as compact JSON, nothing for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | date | datetime):
        return str(to_json(value))
    if isinstance(value, dict | list | tuple):
        return json.dumps(to_json(value), ensure_ascii=False, separators=(",", ":"))
    return str(value)
