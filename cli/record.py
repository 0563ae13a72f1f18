"""`finledger record ...`: each command appends exactly one event, or nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli import complete
from cli.console import out, print_json, warn_line
from cli.context import service, today
from cli.params import parse_date, parse_decimal, parse_investor, parse_rate, parse_shares

if TYPE_CHECKING:  # the ledger loads when a command runs, not for --help
    from app.commands import Command
    from app.events import LedgerEvent

app = typer.Typer(
    help="Record an event. Each command appends exactly one event, or nothing.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain click help: no markdown parser at start-up
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the recorded event as JSON.")]
DateOpt = Annotated[date, typer.Option(
    "--date", parser=parse_date, metavar="YYYY-MM-DD", help="Effective date, YYYY-MM-DD.")]


def cap_opt() -> Any:
    return typer.Option("--ownership-cap", parser=parse_rate, metavar="PERCENT",
                        help="Beneficial-ownership cap in percent (e.g. 9.99): a conversion or "
                        "exercise that would leave the holder owning more of the common is "
                        "refused.")


def holder_owns_opt() -> Any:
    return typer.Option("--holder-owns", parser=parse_shares_or_zero, metavar="N",
                        help="The holder's current common shares, for the ownership cap "
                        "(default: the common the ledger issued to it).")


def parse_shares_or_zero(text: str) -> int:
    return 0 if text.strip() == "0" else parse_shares(text)


def money(help: str) -> Any:
    return typer.Option(parser=parse_decimal, metavar="DECIMAL", help=help)


def shares_opt(help: str) -> Any:
    return typer.Option(parser=parse_shares, metavar="N", help=help)


def date_opt(help: str) -> Any:
    return typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help=help)


class Frequency(StrEnum):
    quarterly = "quarterly"
    semiannual = "semiannual"
    annual = "annual"
    monthly = "monthly"


class DayCount(StrEnum):
    actual_365 = "actual/365"
    thirty_360 = "30/360"


class DividendForm(StrEnum):
    cash = "cash"
    stock = "stock"
    either = "either"


class PaymentForm(StrEnum):
    cash = "cash"
    stock = "stock"


class AntiDilution(StrEnum):
    none = "none"
    full_ratchet = "full-ratchet"
    weighted_average = "weighted-average"


AntiDilutionOpt = Annotated[AntiDilution, typer.Option(
    "--anti-dilution", help="Price-based anti-dilution protection (DOMAIN.md 13).")]
PriceFloorOpt = Annotated[Decimal | None, typer.Option(
    "--price-floor", parser=parse_decimal, metavar="DECIMAL",
    help="The lowest price an anti-dilution reset may set.")]


def show(event: LedgerEvent, as_json: bool) -> None:
    if as_json:
        from app.events import log_entry

        print_json(log_entry(event))
        return
    out().print(success_line(event), markup=False, soft_wrap=True)
    from cli.outcomes import outcome_lines  # the terms it changed, a line each

    for line in outcome_lines(event):
        out().print(line, markup=False, soft_wrap=True)


def success_line(event: LedgerEvent) -> str:
    """`Recorded TYPE at position N (ref REF, effective D)`, then the outcome it computed."""
    from app.events import outcome, reference_of

    line = (f"Recorded {type(event).__name__} at position {event.originator_version} "
            f"(ref {reference_of(event)}, effective {event.effective_date})")
    said = outcome(event) if type(event).__name__ in COMPUTED else ""
    return f"{line}: {said}" if said else line


# The events whose success line states an outcome (the others store only what was typed).
COMPUTED = frozenset({
    "SeriesAuthorizationIncreased", "ClosingCompleted", "WarrantsExercised", "DividendDeclared",
    "ConversionRequested", "SharesTransferred", "WarrantsTransferred", "SharesRedeemed",
})


def _record(ctx: typer.Context, command: Command, as_json: bool) -> None:
    recorded = service(ctx).record(command)
    show(recorded.event, as_json)
    for note in recorded.advice:
        warn_line(note)
    warn_if_future(recorded.event)


def warn_if_future(event: LedgerEvent) -> None:
    """A date after today is recorded (a financing may be entered ahead), but it is usually
    a typo, and it moves every report's date: say so on stderr."""
    now = today()
    if event.effective_date > now:
        warn_line(
            f"the effective date {event.effective_date} is after today ({now}); the event is "
            f"recorded, and reports without --as-of now judge accrual and expiry as of "
            f"{event.effective_date}. If it is a typo, `finledger record reversal "
            f"{event.originator_version} --reason ...` and record it again"
        )


@app.command("series")
def series(
    ctx: typer.Context,
    *,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Series name, e.g. 'Series D'.")],
    effective: DateOpt,
    stated_value: Annotated[Decimal, money("Stated value per share.")],
    conversion_price: Annotated[Decimal, money("Conversion price per common share.")],
    dividend_rate: Annotated[Decimal, typer.Option(
        parser=parse_rate, metavar="PERCENT", help="Percent a year on stated value (8 or 8%).")],
    authorized: Annotated[int, shares_opt("Shares authorized.")],
    par_value: Annotated[Decimal, money("Par value per share.")] = Decimal("0"),
    cumulative: Annotated[bool, typer.Option("--cumulative/--non-cumulative")] = True,
    frequency: Annotated[Frequency, typer.Option(help="Dividend payment frequency.")] = Frequency.quarterly,
    day_count: Annotated[DayCount, typer.Option(help="Day-count convention.")] = DayCount.actual_365,
    dividend_form: Annotated[DividendForm, typer.Option(help="How dividends may be paid.")] = DividendForm.either,
    convert_accrued: Annotated[bool, typer.Option("--convert-accrued/--no-convert-accrued")] = True,
    anti_dilution: AntiDilutionOpt = AntiDilution.none,
    price_floor: PriceFloorOpt = None,
    ownership_cap: Annotated[Decimal | None, cap_opt()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Designate a series of preferred stock and its terms.

    Example: finledger record series "Series D" --date 2003-05-08 --stated-value 10000
    --conversion-price 2.35 --dividend-rate 8 --authorized 444 --par-value 0.001
    """
    from app.commands import DesignateSeries

    _record(ctx, DesignateSeries(
        effective_date=effective, series=name, stated_value=stated_value,
        conversion_price=conversion_price, dividend_rate=dividend_rate, authorized=authorized,
        par_value=par_value, cumulative=cumulative, frequency=frequency.value,
        day_count=day_count.value, dividend_form=dividend_form.value,
        convert_accrued=convert_accrued, anti_dilution=anti_dilution.value,
        price_floor=price_floor, ownership_cap=ownership_cap,
    ), as_json)


@app.command("authorization")
def authorization(
    ctx: typer.Context,
    *,
    series: Annotated[str, typer.Argument(
        metavar="SERIES", help="Series name.", autocompletion=complete.series_names)],
    shares: Annotated[int, shares_opt("Additional shares authorized.")],
    effective: DateOpt,
    as_json: JsonOpt = False,
) -> None:
    """Authorize more shares of a series.

    Example: finledger record authorization "Series D" --shares 156 --date 2003-05-14
    """
    from app.commands import IncreaseAuthorization

    _record(ctx, IncreaseAuthorization(effective_date=effective, series=series, shares=shares),
            as_json)


def _investors(values: list[str]) -> tuple[tuple[str, int], ...]:
    try:
        return tuple(parse_investor(v) for v in values)
    except typer.BadParameter as exc:
        exc.param_hint = "'--investor'"
        raise


@app.command("closing")
def closing(
    ctx: typer.Context,
    *,
    security: Annotated[str, typer.Argument(
        metavar="SECURITY", help="A series name, or `common`.",
        autocompletion=complete.securities)],
    effective: DateOpt,
    investor: Annotated[list[str], typer.Option(
        "--investor", metavar="NAME=SHARES", help='"NAME=SHARES"; repeat for each investor.')],
    price_per_share: Annotated[Decimal | None, money("Price per share (default: the series' stated value).")] = None,
    fees: Annotated[Decimal, money("Fees paid out of the proceeds.")] = Decimal("0"),
    ref: Annotated[str | None, typer.Option(metavar="REF", help="Reference (generated when not given).")] = None,
    exempt: Annotated[bool, typer.Option(
        "--exempt", help="A closing of common exempt from anti-dilution: it adjusts no terms.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Record a closing: shares sold to investors for cash. A closing of common below the
    price in force of a series or warrant protected by anti-dilution adjusts it (unless
    --exempt); each adjustment is printed on its own line.

    Example: finledger record closing "Series D" --date 2003-05-08
    --investor "SCO Capital Partners=150" --investor "SDS Merchant Fund=100" --ref D-1
    """
    from app.commands import RecordClosing

    _record(ctx, RecordClosing(
        effective_date=effective, security=security, investors=_investors(investor),
        price_per_share=price_per_share, fees=fees, ref=ref, exempt=exempt,
    ), as_json)


@app.command("warrants")
def warrants(
    ctx: typer.Context,
    *,
    holder: Annotated[str, typer.Option(
        metavar="NAME", help="Warrant holder.", autocompletion=complete.holders)],
    shares: Annotated[int, shares_opt("Common shares on the instrument.")],
    exercise_price: Annotated[Decimal, money("Exercise price.")],
    effective: DateOpt,
    expires: Annotated[date | None, date_opt("Last day it may be exercised.")] = None,
    label: Annotated[str, typer.Option(metavar="TEXT", help="Label, e.g. 'Series D-1'.")] = "",
    closing: Annotated[str | None, typer.Option(
        "--closing", metavar="REF", help="Reference of the closing it came with.",
        autocompletion=complete.closing_refs)] = None,
    ref: Annotated[str | None, typer.Option(metavar="REF", help="Reference (generated when not given).")] = None,
    anti_dilution: AntiDilutionOpt = AntiDilution.none,
    price_floor: PriceFloorOpt = None,
    ownership_cap: Annotated[Decimal | None, cap_opt()] = None,
    exercisable_from: Annotated[date | None, date_opt(
        "First day it may be exercised (default: its issue date).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue a warrant to buy common shares.

    Example: finledger record warrants --holder "SCO Capital Partners" --shares 944681
    --exercise-price 3.00 --date 2003-05-08 --expires 2008-05-08 --closing D-1
    """
    from app.commands import IssueWarrants

    _record(ctx, IssueWarrants(
        effective_date=effective, holder=holder, shares=shares, exercise_price=exercise_price,
        expires=expires, label=label, closing=closing, ref=ref,
        anti_dilution=anti_dilution.value, price_floor=price_floor, ownership_cap=ownership_cap,
        exercisable_from=exercisable_from,
    ), as_json)


@app.command("exercise")
def exercise(
    ctx: typer.Context,
    *,
    warrant_ref: Annotated[str, typer.Argument(
        metavar="WARRANT_REF", help="The warrant's reference.",
        autocompletion=complete.warrant_refs)],
    shares: Annotated[int, shares_opt("Warrant shares exercised.")],
    effective: DateOpt,
    cashless: Annotated[bool, typer.Option("--cashless", help="Net exercise, no cash paid.")] = False,
    market_price: Annotated[Decimal | None, money("Market price (cashless).")] = None,
    holder_owns: Annotated[int | None, holder_owns_opt()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Exercise warrant shares, for cash or cashless.

    Example: finledger record exercise W-0004 --shares 10000 --date 2004-01-15
    """
    from app.commands import ExerciseWarrants

    _record(ctx, ExerciseWarrants(
        effective_date=effective, warrant=warrant_ref, shares=shares, cashless=cashless,
        market_price=market_price, holder_owns=holder_owns,
    ), as_json)


@app.command("dividend")
def dividend(
    ctx: typer.Context,
    *,
    series: Annotated[str, typer.Argument(
        metavar="SERIES", help="Series name.", autocompletion=complete.series_names)],
    through: Annotated[date, date_opt("Dividends accrued through this date.")],
    effective: DateOpt,
    form: Annotated[PaymentForm, typer.Option(help="cash or stock.")],
    price: Annotated[Decimal | None, money("Price per common share (stock).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Declare and pay the dividends accrued through a date, in cash or common stock.

    Example: finledger record dividend "Series D" --through 2003-06-30 --date 2003-07-01
    --form stock --price 3.10
    """
    from app.commands import DeclareDividend

    _record(ctx, DeclareDividend(
        effective_date=effective, series=series, through=through, form=form.value, price=price,
    ), as_json)


@app.command("conversion")
def conversion(
    ctx: typer.Context,
    *,
    series: Annotated[str, typer.Argument(
        metavar="SERIES", help="Series name.", autocompletion=complete.series_names)],
    holder: Annotated[str, typer.Option(
        metavar="NAME", help="Converting holder.", autocompletion=complete.holders)],
    shares: Annotated[int, shares_opt("Preferred shares converted.")],
    effective: DateOpt,
    holder_owns: Annotated[int | None, holder_owns_opt()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Convert a holder's preferred shares into common stock (oldest lots first).

    Example: finledger record conversion "Series D" --holder "SCO Capital Partners"
    --shares 20 --date 2003-09-02
    """
    from app.commands import RequestConversion

    _record(ctx, RequestConversion(
        effective_date=effective, series=series, holder=holder, shares=shares,
        holder_owns=holder_owns,
    ), as_json)


RefOpt = Annotated[str | None, typer.Option(
    metavar="REF", help="Reference (generated when not given).")]


@app.command("transfer")
def transfer(
    ctx: typer.Context,
    *,
    series: Annotated[str, typer.Argument(
        metavar="SERIES", help="Series name.", autocompletion=complete.series_names)],
    from_holder: Annotated[str, typer.Option(
        "--from", metavar="NAME", help="The holder selling.", autocompletion=complete.holders)],
    to_holder: Annotated[str, typer.Option("--to", metavar="NAME", help="The holder buying.")],
    shares: Annotated[int, shares_opt("Preferred shares moved.")],
    effective: DateOpt,
    ref: RefOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move preferred shares from one holder to another (oldest lots first; each lot keeps
    its issue date and accrual, so a later dividend pays the new holder the whole period).

    Example: finledger record transfer "Series D" --from "SCO Capital Partners"
    --to "Xmark Funds" --shares 30 --date 2003-08-15
    """
    from app.commands import TransferShares

    _record(ctx, TransferShares(
        effective_date=effective, series=series, from_holder=from_holder, to_holder=to_holder,
        shares=shares, ref=ref,
    ), as_json)


@app.command("warrant-transfer")
def warrant_transfer(
    ctx: typer.Context,
    *,
    warrant_ref: Annotated[str, typer.Argument(
        metavar="WARRANT_REF", help="The warrant assigned.",
        autocompletion=complete.warrant_refs)],
    to_holder: Annotated[str, typer.Option("--to", metavar="NAME", help="The new holder.")],
    shares: Annotated[int, shares_opt("Warrant shares assigned.")],
    effective: DateOpt,
    ref: Annotated[str | None, typer.Option(
        metavar="REF", help="Reference of the new warrant (generated when not given).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Assign all or part of a warrant to another holder: a new warrant with the same
    terms, and the old one's outstanding shares drop by as many.

    Example: finledger record warrant-transfer W-D1-300 --to "Xmark Funds" --shares 100000
    --date 2003-08-15
    """
    from app.commands import TransferWarrants

    _record(ctx, TransferWarrants(
        effective_date=effective, warrant=warrant_ref, to_holder=to_holder, shares=shares,
        ref=ref,
    ), as_json)


@app.command("redemption")
def redemption(
    ctx: typer.Context,
    *,
    series: Annotated[str, typer.Argument(
        metavar="SERIES", help="Series name.", autocompletion=complete.series_names)],
    holder: Annotated[str, typer.Option(
        metavar="NAME", help="The holder redeemed.", autocompletion=complete.holders)],
    shares: Annotated[int, shares_opt("Preferred shares bought back.")],
    effective: DateOpt,
    price_per_share: Annotated[Decimal | None, money(
        "Price per share (default: the stated value).")] = None,
    ref: RefOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The company buys preferred shares back (oldest lots first): it pays shares x price
    plus, on a cumulative series, the dividends accrued on those lots; the shares retire.

    Example: finledger record redemption "Series D" --holder "ProMed Partners, L.P."
    --shares 10 --date 2004-03-31
    """
    from app.commands import RedeemShares

    _record(ctx, RedeemShares(
        effective_date=effective, series=series, holder=holder, shares=shares,
        price_per_share=price_per_share, ref=ref,
    ), as_json)


@app.command("common-outstanding")
def common_outstanding(
    ctx: typer.Context,
    *,
    shares: Annotated[int, typer.Argument(parser=parse_shares, metavar="N", help="Common shares outstanding.")],
    effective: DateOpt,
    as_json: JsonOpt = False,
) -> None:
    """Report the company's common shares outstanding on a date (a baseline from filings).

    Example: finledger record common-outstanding 3108100 --date 2003-05-09
    """
    from app.commands import ReportCommonOutstanding

    _record(ctx, ReportCommonOutstanding(effective_date=effective, shares=shares), as_json)


@app.command("reversal")
def reversal(
    ctx: typer.Context,
    *,
    position: Annotated[int, typer.Argument(
        parser=parse_shares, metavar="POSITION", help="Position of the event to reverse.")],
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why the event was a mistake.")],
    as_json: JsonOpt = False,
) -> None:
    """Reverse an earlier event found to be a mistake (history is never edited).

    Example: finledger record reversal 7 --reason "wrong holder; re-recorded at 9"
    """
    show(service(ctx).reverse(position, reason).event, as_json)
