"""Pure renderers: rows in, a rich `Table` out. Nothing here reads the ledger."""

from __future__ import annotations

import json
import typing
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, assert_never

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cli.tables import optional
from events import (
    EVENTS_BY_NAME,
    AnyEvent,
    ClosingCompleted,
    CommonOutstandingReported,
    ConversionRequested,
    DividendDeclared,
    DividendForm,
    EventReversed,
    SeriesAuthorizationIncreased,
    SeriesDesignated,
    SharesRedeemed,
    SharesTransferred,
    StockSplit,
    TermsAdjusted,
    WarrantsExercised,
    WarrantsIssued,
    WarrantsTransferred,
)
from events.codec import event_from_data

if TYPE_CHECKING:
    from app.reports import (
        CapitalReport,
        Overhang,
        PreferredHolder,
        PreferredReport,
        PreferredSeries,
        PriceOverhang,
        SummaryReport,
        WarrantOverhang,
        WarrantsReport,
    )


def event_summary(event: AnyEvent) -> str:
    """One line saying what the event recorded (`log`, `audit replay`): one case per event
    type, closed with `assert_never`, so a new event type is a type error until it is here."""
    match event:
        case SeriesDesignated():
            return (f"{event.series}: stated {money(event.stated_value)}, converts at "
                    f"{event.conversion_price}, {event.dividend_rate}%, "
                    f"{event.authorized:,} authorized")
        case SeriesAuthorizationIncreased():
            return f"{event.series}: +{event.shares:,} authorized (now {event.authorized:,})"
        case ClosingCompleted():
            investors = ", ".join(f"{a.investor} {a.shares:,}" for a in event.allocations)
            return (f"{event.ref}: {event.shares:,} {event.security} at "
                    f"{event.price_per_share}, gross {event.gross} ({investors})")
        case WarrantsIssued():
            return (f"{event.ref}: {event.holder} {event.shares:,} at {event.exercise_price}"
                    + (f", expires {event.expires}" if event.expires else ""))
        case WarrantsExercised():
            how = "cashless" if event.cashless else f"cash {event.proceeds}"
            return (f"{event.warrant}: {event.shares:,} exercised ({how}), "
                    f"{event.common_shares:,} common")
        case DividendDeclared():
            return (f"{event.series}: through {event.through}, {event.form} {event.amount}"
                    + (f", {event.common_shares:,} common"
                       if event.form == DividendForm.STOCK else ""))
        case ConversionRequested():
            return (f"{event.series}: {event.holder} {event.shares:,} -> "
                    f"{event.common_shares:,} common, cash in lieu {event.cash_in_lieu}")
        case CommonOutstandingReported():
            return f"{event.shares:,} common outstanding"
        case EventReversed():
            return f"reverses position {event.reversed_position}: {event.reason}"
        case StockSplit():
            return (f"{event.new}-for-{event.old} split: common {event.common_before:,} -> "
                    f"{event.common_after:,}")
        case TermsAdjusted():
            what = event.series if event.series is not None else event.warrant
            return f"{what}: price {event.old_price} -> {event.new_price} ({event.reason})"
        case SharesTransferred():
            return (f"{event.ref}: {event.series} {event.shares:,} from {event.from_holder} "
                    f"to {event.to_holder}")
        case WarrantsTransferred():
            return (f"{event.ref}: {event.shares:,} of {event.warrant} from "
                    f"{event.from_holder} to {event.holder} at {event.exercise_price}")
        case SharesRedeemed():
            return (f"{event.ref}: {event.series} {event.holder} {event.shares:,} at "
                    f"{event.price_per_share}, paid {event.total} (accrued {event.accrued})")
        case _:
            assert_never(event)


def _summary(entry: dict[str, Any]) -> str:
    """`event_summary` of a `log --json` entry (its event read back from its data)."""
    cls = EVENTS_BY_NAME.get(entry["type"])
    if cls is None:  # (not an event type of this version)
        return json.dumps(entry["data"])[:120]
    return event_summary(typing.cast("AnyEvent", event_from_data(cls, entry["data"])))


def log_table(entries: list[dict[str, Any]]) -> Table:
    table = Table(title="Ledger events (recording order)", title_justify="left")
    table.add_column("Pos", justify="right")
    table.add_column("Effective")
    table.add_column("Type")
    table.add_column("What")
    table.add_column("Recorded (UTC)")
    table.add_column("By")
    optional(table, "Recorded (UTC)", "By")
    for entry in entries:
        reversed_by = entry.get("reversed_by")
        what = Text(_summary(entry))
        if reversed_by:
            what.append(f"  [reversed by {reversed_by}]", style="red")
            what.stylize("strike", 0, len(_summary(entry)))
        table.add_row(
            str(entry["position"]), entry["effective_date"], entry["type"], what,
            entry["recorded_at"][:19].replace("T", " "), entry.get("actor", ""),
        )
    return table


# --- reports -------------------------------------------------------------------------------
# Each takes the typed rows a `projections.reports` builder returns (Decimal money, int
# shares), the rows `--json` prints, and draws them like a financial statement.

HEADER = "bold cyan"
TOTAL = "bold"


def shares(value: int) -> str:
    return f"{value:,}"


CENTS = Decimal("0.01")


def money(value: Decimal) -> str:
    """An amount with thousands separators and at least cents, however it was typed
    (`10000` and `10000.00` both print `10,000.00`); more places are kept as given, and never
    in exponent form."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(CENTS)
    return f"{value:,f}"


def _figures(table: Table, *names: str) -> None:
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)


def _statement(title: str, caption: str | None = None) -> Table:
    return Table(
        title=title, title_justify="left", title_style="bold", caption=caption,
        caption_justify="left", header_style=HEADER, box=box.SIMPLE_HEAD, show_edge=False,
        padding=(0, 1, 0, 0), min_width=len(title),
    )


def _fit(table: Table) -> Table:
    """Figures are never wrapped or cut: each figure column is as wide as its widest cell."""
    for column in table.columns:
        if column.justify == "right" or column.no_wrap:
            cells = [str(cell) for cell in column.cells]
            words = str(column.header).split("\n")
            column.min_width = max(len(text) for text in [*cells, *words])
    return table


def _as_of(on: date, basis: str) -> str:
    """`as of D`, and what the command says more about that (`basis`, from the CLI: "as
    recorded at position P", or that D is the latest effective date rather than today)."""
    return f"as of {on.isoformat()}{basis}"


def preferred_table(report: PreferredReport, basis: str = "") -> Table:
    notes = []
    for s in report.series:
        kind = "cumulative" if s.cumulative else "non-cumulative"
        through = s.dividends_through
        paid = f", dividends declared through {through}" if through else ", no dividend declared"
        notes.append(
            f"{s.series}: stated value ${money(s.stated_value)}, converts at "
            f"${s.conversion_price}, {s.dividend_rate}% {kind}, "
            f"{shares(s.authorized)} authorized{paid}"
        )
    table = _statement(f"Outstanding preferred {_as_of(report.as_of, basis)}",
                       "\n".join(notes) or None)
    table.add_column("Series / holder")
    redeemed = any(s.redeemed for s in report.series)  # the column only when it counts

    def retired(row: PreferredSeries | PreferredHolder) -> list[str]:
        return [shares(row.converted), *([shares(row.redeemed)] if redeemed else [])]

    _figures(table, "Issued", "Converted", *(["Redeemed"] if redeemed else []), "Outstanding",
             "Stated\nvalue $", "Accrued\ndividends $", "As-converted\ncommon")
    for s in report.series:
        table.add_row(
            Text(s.series, style="bold"), shares(s.issued), *retired(s),
            shares(s.outstanding), money(s.stated_value_outstanding),
            money(s.accrued_dividends) if s.cumulative else "-",
            shares(s.as_converted_common),
        )
        for h in s.holders:
            table.add_row(
                f"  {h.holder}", shares(h.issued), *retired(h),
                shares(h.outstanding), money(h.stated_value_outstanding),
                money(h.accrued_dividends) if s.cumulative else "-",
                shares(h.as_converted_common),
            )
    t = report.totals
    table.add_section()
    table.add_row(
        "Total", "", "", *([""] if redeemed else []), shares(t.outstanding),
        money(t.stated_value_outstanding),
        money(t.accrued_dividends), shares(t.as_converted_common), style=TOTAL,
    )
    return _fit(table)


def warrants_tables(report: WarrantsReport, basis: str = "") -> Group:
    market = report.market_price
    title = f"Warrant overhang {_as_of(report.as_of, basis)}"
    if market is not None:
        title += f", market price ${market}"
    table = _statement(title)
    labels = any(w.label for w in report.warrants)
    # `adjusted` (splits, anti-dilution, adjustments by hand) only where some warrant has it
    adjusted = any(w.adjusted for w in report.warrants)

    def added(row: WarrantOverhang | Overhang) -> list[str]:
        return [shares(row.adjusted)] if adjusted else []

    table.add_column("Ref", no_wrap=True)
    if labels:
        table.add_column("Label")
    table.add_column("Holder")
    optional(table, "Label", "Holder")
    table.add_column("Issued\non", no_wrap=True)
    # the exercisable-from and transferred columns only when some warrant has them
    later = any(w.exercisable_from != w.issued_on for w in report.warrants)
    moved = any(w.transferred for w in report.warrants)
    if later:
        table.add_column("Exercisable\nfrom", no_wrap=True)
    table.add_column("Expires", no_wrap=True)
    _figures(table, "Exercise\nprice $", "Issued", "Exercised",
             *(["Transferred"] if moved else []), "Expired",
             *(["Adjusted"] if adjusted else []), "Outstanding", "Potential\nproceeds $")
    if market is not None:
        _figures(table, "In the\nmoney", "Treasury\nshares")

    def extra(row: WarrantOverhang | Overhang | PriceOverhang) -> list[str]:
        if row.market is None:
            return []
        return [shares(row.market.in_the_money), shares(row.market.treasury_shares)]

    def counts(row: WarrantOverhang | Overhang) -> list[str]:
        return [shares(row.issued), shares(row.exercised),
                *([f"{row.transferred:+,}" if row.transferred else "0"] if moved else []),
                shares(row.expired), *added(row), shares(row.outstanding),
                money(row.potential_proceeds)]

    blanks = [""] * ((5 if labels else 4) + (1 if later else 0))
    groups = {g.closing: g.sums for g in report.by_closing}
    by_closing: dict[str | None, list[WarrantOverhang]] = {}
    for w in report.warrants:
        by_closing.setdefault(w.closing, []).append(w)
    for closing, group in groups.items():
        rows = by_closing.get(closing, [])
        for w in rows:
            table.add_row(
                w.ref, *([w.label] if labels else []), w.holder, w.issued_on.isoformat(),
                *([w.exercisable_from.isoformat()] if later else []),
                w.expires.isoformat() if w.expires else "-", str(w.exercise_price),
                *counts(w), *extra(w),
            )
        if len(groups) > 1 or len(rows) > 1:
            name = f"Closing {closing}" if closing else "No closing"
            table.add_row(
                Text(name, style="italic"), *blanks, *counts(group),
                *extra(group), end_section=True, style="italic",
            )
    t = report.totals
    table.add_section()
    table.add_row("Total", *blanks, *counts(t), *extra(t), style=TOTAL)
    by_price = _statement(f"Overhang by exercise price {_as_of(report.as_of, basis)}")
    _figures(by_price, "Exercise\nprice $", "Outstanding", "Potential\nproceeds $")
    if market is not None:
        _figures(by_price, "In the\nmoney", "Treasury\nshares")
    for p in report.by_price:
        by_price.add_row(str(p.exercise_price), shares(p.outstanding),
                         money(p.potential_proceeds), *extra(p))
    by_price.add_section()
    by_price.add_row("Total", shares(t.outstanding), money(t.potential_proceeds),
                     *extra(t), style=TOTAL)
    return Group(_fit(table), Text(""), _fit(by_price))


def capital_tables(report: CapitalReport, basis: str = "") -> Group:
    since = f", since {report.since.isoformat()}" if report.since else ""
    entries = _statement(f"Capital raised {_as_of(report.as_of, basis)}{since}")
    for name in ("Date", "Source", "Ref", "Security"):
        entries.add_column(name)
    _figures(entries, "Gross $", "Fees $", "Net $", "Cumulative\ngross $")
    for e in report.entries:
        entries.add_row(
            e.date.isoformat(), e.source, e.ref, e.security, money(e.gross),
            money(e.fees), money(e.net), money(e.cumulative_gross),
        )
    t = report.totals
    entries.add_section()
    entries.add_row("Total", "", "", "", money(t.gross), money(t.fees), money(t.net),
                    "", style=TOTAL)
    periods = _statement(f"Capital raised by {report.by} {_as_of(report.as_of, basis)}{since}")
    periods.add_column("Period")
    _figures(periods, "Gross $", "Fees $", "Net $")
    for p in report.periods:
        periods.add_row(p.period, money(p.sums.gross), money(p.sums.fees), money(p.sums.net))
    periods.add_section()
    periods.add_row("Total", money(t.gross), money(t.fees), money(t.net), style=TOTAL)
    return Group(_fit(entries), Text(""), _fit(periods))


def summary_table(report: SummaryReport, basis: str = "") -> Table:
    table = _statement(f"Summary {_as_of(report.as_of, basis)}")
    table.add_column("")
    _figures(table, "")
    table.show_header = False
    cap, pref, warr, fd = report.capital, report.preferred, report.warrants, report.fully_diluted

    def heading(text: str) -> None:
        table.add_row(Text(text, style=HEADER), "")

    heading("Capital raised")
    table.add_row("  Gross proceeds $", money(cap.gross))
    table.add_row("  Fees $", money(cap.fees))
    table.add_row("  Net proceeds $", money(cap.net), end_section=True)
    heading("Preferred outstanding")
    table.add_row("  Shares", shares(pref.outstanding))
    table.add_row("  Stated value $", money(pref.stated_value_outstanding))
    table.add_row("  Accrued unpaid dividends $", money(pref.accrued_dividends))
    table.add_row("  As-converted common", shares(pref.as_converted_common), end_section=True)
    heading("Warrant overhang")
    table.add_row("  Warrant shares outstanding", shares(warr.outstanding))
    table.add_row("  Potential proceeds $", money(warr.potential_proceeds), end_section=True)
    heading("Fully diluted common")
    if fd.baseline is not None and fd.baseline_date is not None:
        table.add_row(f"  Reported outstanding on {fd.baseline_date.isoformat()}",
                      shares(fd.baseline))
    else:
        table.add_row("  Reported outstanding (no baseline recorded)", "0")
    table.add_row("  Issued by the ledger since", shares(fd.issued_since_baseline))
    table.add_row("  Common outstanding", shares(fd.common_outstanding))
    table.add_row("  As-converted preferred", shares(fd.as_converted_preferred))
    table.add_row("  Warrants outstanding", shares(fd.warrants))
    table.add_row("  Fully diluted", shares(fd.total), style=TOTAL)
    return _fit(table)
