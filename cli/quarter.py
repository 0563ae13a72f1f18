"""Renderers for the CFO's quarter: dividends due, the EPS note, and capital raised drawn.

Pure: typed report rows in (what `projections.dividends`, `projections.eps` and
`projections.reports.capital` return, the rows `--json` prints), rich renderables out.
Bars are measured in exact decimals (never a float) and drawn with block characters, or with
plain ASCII under NO_COLOR or in a pipe.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from app.reports import PERIOD_MONTHS
from cli.console import plain_console
from cli.render import HEADER, TOTAL, _figures, _fit, _statement, money, shares

if TYPE_CHECKING:
    from app.reports import (
        CapitalReport,
        DividendHolder,
        DividendSeries,
        DividendsReport,
        DividendTotals,
        EpsReport,
        EpsSecurity,
    )

BAR_WIDTH = 40  # characters of the longest bar
WIDE = 124  # a terminal at least this wide shows the chart beside `report summary`
EIGHTHS = " ▏▎▍▌▋▊▉"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def signed_money(value: Decimal) -> str:
    """Money as a financial statement prints it: a negative figure in parentheses."""
    return f"({money(-value)})" if value < 0 else money(value)


def per_share(value: Decimal) -> str:
    return f"$({-value:,})" if value < 0 else f"${value:,}"


def _date(value: date | None) -> str:
    return value.isoformat() if value is not None else "-"


# --- report dividends ------------------------------------------------------------------------


def _schedule(frequency: str) -> str:
    months = PERIOD_MONTHS[frequency]
    if len(months) == 12:
        return "each month's end"
    days = {3: "31", 6: "30", 9: "30", 12: "31"}
    return ", ".join(f"{MONTHS[m - 1]} {days[m]}" for m in months)


def _series_note(s: DividendSeries) -> str:
    kind = "cumulative" if s.cumulative else "non-cumulative"
    form = {"either": "cash or stock", "cash": "cash only", "stock": "stock only"}
    last = (f"{s.dividends_declared} declared, through {s.last_through}"
            if s.last_through else "none declared")
    if not s.cumulative:
        behind = "no arrears (non-cumulative)"
    elif s.arrears_through is not None:
        behind = f"in arrears through {s.arrears_through}"
    else:
        behind = "no arrears"
    return (f"{s.series}: {s.dividend_rate}% {kind}, {s.frequency} "
            f"({_schedule(s.frequency)}), {form[s.dividend_form]}; {last}; {behind}")


def dividends_table(report: DividendsReport) -> Group:
    price = report.price
    title = f"Dividends as of {report.as_of.isoformat()}"
    if price is not None:
        title += f"; paid in stock at ${price} per common share"
    notes = [_series_note(s) for s in report.series]
    notes.append("Next dividend: what a dividend through the next scheduled date would pay on "
                 "the holdings of the as-of date, arrears included.")
    table = _statement(title)
    table.add_column("Series / holder")
    table.add_column("Last\nthrough", no_wrap=True)
    table.add_column("Next\nthrough", no_wrap=True)
    _figures(table, "Next\ndividend $", "Arrears $")
    if price is not None:
        _figures(table, "Common\nshares", "Cash in\nlieu $")
    _figures(table, "Paid\ncash $", "Paid\ncommon", "Paid cash\nin lieu $")

    def preview(row: DividendSeries | DividendHolder | DividendTotals) -> list[str]:
        if row.preview is None:
            return []
        if row.preview.next_common_shares is None or row.preview.next_cash_in_lieu is None:
            return ["cash only", "-"]
        return [shares(row.preview.next_common_shares), money(row.preview.next_cash_in_lieu)]

    for s in report.series:
        arrears = money(s.arrears) if s.cumulative else "-"
        table.add_row(
            Text(s.series, style="bold"), _date(s.last_through), _date(s.next_through),
            money(s.next_amount), arrears, *preview(s), money(s.paid_cash),
            shares(s.paid_common_shares), money(s.paid_cash_in_lieu),
        )
        for h in s.holders:
            table.add_row(
                f"  {h.holder}", "", "", money(h.next_amount),
                money(h.arrears) if s.cumulative else "-", *preview(h), "", "", "",
            )
    t = report.totals
    table.add_section()
    table.add_row(
        "Total", "", "", money(t.next_amount), money(t.arrears), *preview(t),
        money(t.paid_cash), shares(t.paid_common_shares), money(t.paid_cash_in_lieu),
        style=TOTAL,
    )
    return Group(_fit(table), *(Text(line) for line in notes))


# --- report eps --------------------------------------------------------------------------------


def _security(entry: EpsSecurity, average_price: Decimal) -> str:
    if entry.kind == "series":
        return f"{entry.security} (if-converted at ${entry.price})"
    return (f"Warrant {entry.security} (exercise ${entry.price}, treasury stock at "
            f"${average_price})")


def eps_table(report: EpsReport) -> Group:
    """The EPS note of a 10-Q: numerator, denominator, basic and diluted, and what was left
    out as anti-dilutive."""
    price = report.average_price
    title = (f"Earnings per share, {report.start.isoformat()} to {report.end.isoformat()} "
             f"({report.days} days)")
    note = _statement(title)
    note.add_column("")
    _figures(note, "")
    note.show_header = False

    def heading(text: str) -> None:
        note.add_row(Text(text, style=HEADER), "")

    heading("Numerator ($)")
    note.add_row("  Net income" if report.net_income >= 0 else "  Net loss",
                 signed_money(report.net_income))
    for p in report.preferred:
        basis = "accrued, cumulative" if p.cumulative else "declared in the period"
        note.add_row(f"  Less: dividends on {p.series} ({basis})", signed_money(-p.amount))
    note.add_row("  Income available to common stockholders, basic",
                 signed_money(report.income_to_common), style=TOTAL)
    for d in report.dilutive:
        if d.add_back:
            note.add_row(f"  Add back: dividends on {d.security}", money(d.add_back))
    note.add_row("  Income available to common stockholders, diluted",
                 signed_money(report.diluted_income), style=TOTAL, end_section=True)
    heading("Denominator (weighted average shares)")
    note.add_row("  Common shares outstanding, basic", shares(report.weighted_average_common))
    if report.dilutive:
        note.add_row(Text("  Effect of dilutive securities:", style="italic"), "")
    for d in report.dilutive:
        note.add_row(f"    {_security(d, price)}", shares(d.incremental_shares))
    note.add_row("  Common shares outstanding, diluted",
                 shares(report.diluted_weighted_average), style=TOTAL, end_section=True)
    heading("Earnings per share")
    note.add_row("  Basic", per_share(report.basic_eps))
    note.add_row("  Diluted", per_share(report.diluted_eps), style=TOTAL)

    parts: list[RenderableType] = [_fit(note), Text(
        "Weighted averages are share-days / days, shown to the nearest share; EPS is computed "
        "from the exact figures and rounded to cents.")]
    if report.anti_dilutive:
        left_out = _statement("Anti-dilutive securities excluded from diluted EPS")
        left_out.add_column("Security")
        _figures(left_out, "Incremental\nshares", "Add-back $")
        left_out.add_column("Why")
        for a in report.anti_dilutive:
            left_out.add_row(_security(a, price), shares(a.incremental_shares),
                             money(a.add_back), a.reason)
        parts += [Text(""), _fit(left_out)]
    return Group(*parts)


# --- report capital --chart ------------------------------------------------------------------


def _spanned(report: CapitalReport) -> list[str]:
    """Every period from the first entry's to the last's, gaps included (a time axis)."""
    from app.reports import period_of

    entries = report.entries
    if not entries:
        return []
    by = report.by
    first, last = entries[0].date, entries[-1].date
    periods: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        name = period_of(date(year, month, 1), by)
        if not periods or periods[-1] != name:
            periods.append(name)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return periods


def _bar(value: Decimal, largest: Decimal, plain: bool, style: str) -> Text:
    if largest <= 0 or value == 0:
        return Text("")
    eighths = int((abs(value) * BAR_WIDTH * 8 / largest).to_integral_value(rounding=ROUND_DOWN))
    if plain:
        return Text(("-" if value < 0 else "#") * max(eighths // 8, 1))
    full, part = divmod(eighths, 8)
    body = "█" * full + (EIGHTHS[part] if part else "")
    return Text(body or "▏", style="red" if value < 0 else style)


def _bars(title: str, rows: list[tuple[str, Decimal]], plain: bool, style: str) -> Group:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, min_width=BAR_WIDTH + 1)
    table.add_column(justify="right", no_wrap=True)
    largest = max((abs(v) for _, v in rows), default=Decimal(0))
    for name, value in rows:
        table.add_row(name, _bar(value, largest, plain, style), signed_money(value))
    return Group(Text(title, style="bold"), table)


def capital_chart(report: CapitalReport, *, plain: bool) -> RenderableType:
    """Cumulative gross capital at the end of each period, and the gross of each period,
    as horizontal bars over the periods from the first entry to the last."""
    as_of = report.as_of.isoformat()
    periods = _spanned(report)
    if not periods:
        return Text(f"No capital raised as of {as_of}.")
    from app.reports import period_of

    gross = {p.period: p.sums.gross for p in report.periods}
    cumulative: list[tuple[str, Decimal]] = []
    running = Decimal("0.00")
    for e in report.entries:
        running = e.cumulative_gross
        name = period_of(e.date, report.by)
        if cumulative and cumulative[-1][0] == name:
            cumulative[-1] = (name, running)
        else:
            cumulative.append((name, running))
    at_end: dict[str, Decimal] = dict(cumulative)
    level = Decimal("0.00")
    rows: list[tuple[str, Decimal]] = []
    for name in periods:
        level = at_end.get(name, level)
        rows.append((name, level))
    since = f" (entries since {report.since.isoformat()})" if report.since else ""
    return Group(
        _bars(f"Cumulative gross capital raised $, by {report.by}, as of {as_of}{since}",
              rows, plain, "cyan"),
        Text(""),
        _bars(f"Gross capital raised per {report.by} $", [
            (name, gross.get(name, Decimal("0.00"))) for name in periods], plain, "green"),
    )


def wide_terminal(console: Console) -> bool:
    """`report summary` draws the chart beside itself only in a real terminal this wide."""
    return console.is_terminal and console.width >= WIDE


def summary_with_chart(summary: Table, capital: CapitalReport, console: Console) -> Table:
    """The summary with the capital chart beside it (for a wide terminal)."""
    grid = Table.grid(padding=(0, 4))
    grid.add_column(no_wrap=True)
    grid.add_column()
    grid.add_row(summary, capital_chart(capital, plain=plain_console(console)))
    return grid
