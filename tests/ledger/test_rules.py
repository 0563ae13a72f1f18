"""The rules of DOMAIN.md through the `Ledger` service: worked figures and every invariant.

Every figure asserted here is worked by hand in the comment beside it. Every refusal is
checked to append nothing. The scenario follows the Series D financing of the seed; the
investor split, expiry and day count are assumptions of the tests, not facts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from events import (
    ClosingCompleted,
    ConversionRequested,
    DividendDeclared,
    HolderDividend,
    LotConversion,
    SeriesAuthorizationIncreased,
    WarrantsExercised,
    WarrantsIssued,
)
from ledger.commands import (
    Command,
    DeclareDividend,
    DesignateSeries,
    ExerciseWarrants,
    IncreaseAuthorization,
    IssueWarrants,
    RecordClosing,
    ReportCommonOutstanding,
    RequestConversion,
)
from ledger.errors import InvalidInput, InvariantViolation, LedgerError, NotFound
from ledger.service import Ledger

D = Decimal
SERIES = "Series D"
SCO, SDS, XMARK = "SCO Capital Partners", "SDS Merchant Fund", "Xmark Funds"


@pytest.fixture
def book(tmp_path: Any) -> Iterator[Ledger]:
    with Ledger(os.path.join(str(tmp_path), "rules.db"), actor="tester", create=True) as ledger:
        yield ledger


def designate(on: date = date(2003, 5, 8), name: str = SERIES, **terms: Any) -> DesignateSeries:
    values: dict[str, Any] = {
        "stated_value": D("10000"),
        "conversion_price": D("2.35"),
        "dividend_rate": D("8"),
        "authorized": 444,
        "par_value": D("0.001"),
    }
    values.update(terms)
    return DesignateSeries(effective_date=on, series=name, **values)


def closing(
    on: date, *investors: tuple[str, int], ref: str | None = None, security: str = SERIES,
    **kw: Any,
) -> RecordClosing:
    return RecordClosing(
        effective_date=on, security=security, investors=tuple(investors), ref=ref, **kw
    )


def refused(book: Ledger, command: Command, error: type[LedgerError], match: str) -> str:
    """Record `command`, expect a refusal, and check nothing was appended."""
    before = book.events()
    with pytest.raises(error, match=match) as info:
        book.record(command)
    assert book.events() == before
    message = str(info.value)
    assert "\n" not in message
    return message


def series_d(book: Ledger, **terms: Any) -> None:
    """Series D designated May 8; D-1 closes 444 sh (SCO 200, SDS 244) the same day."""
    book.record(designate(**terms))
    book.record(closing(date(2003, 5, 8), (SCO, 200), (SDS, 244), ref="D-1"))


def second_closing(book: Ledger) -> None:
    """156 more authorized on May 14 and sold: SCO 100, Xmark 56."""
    book.record(IncreaseAuthorization(effective_date=date(2003, 5, 14), series=SERIES, shares=156))
    book.record(closing(date(2003, 5, 14), (SCO, 100), (XMARK, 56), ref="D-2"))


# --- closings and authorization ----------------------------------------------------------------


def test_closing_proceeds_lots_and_fees(book: Ledger) -> None:
    book.record(designate())
    event = book.record(
        closing(date(2003, 5, 8), (SCO, 200), (SDS, 244), ref="D-1", fees=D("310800"))
    )
    assert isinstance(event, ClosingCompleted)
    # 444 sh x $10,000 = $4,440,000.00; fees 310,800 (7%); net 4,129,200.00
    assert (event.shares, event.gross, event.fees, event.net) == (
        444, D("4440000.00"), D("310800.00"), D("4129200.00"),
    )
    # 200 x 10,000 = 2,000,000.00 and 244 x 10,000 = 2,440,000.00
    assert [(a.investor, a.shares, a.gross) for a in event.allocations] == [
        (SCO, 200, D("2000000.00")), (SDS, 244, D("2440000.00")),
    ]
    series = book.state().series[SERIES]
    assert (series.issued, series.outstanding) == (444, 444)
    assert series.holdings() == {SCO: 200, SDS: 244}


def test_authorization_increase_lets_the_second_closing_through(book: Ledger) -> None:
    series_d(book)
    refused(book, closing(date(2003, 5, 14), (SCO, 100), (XMARK, 56)),
            InvariantViolation, "only 0 of its 444 authorized shares remain")
    event = book.record(
        IncreaseAuthorization(effective_date=date(2003, 5, 14), series=SERIES, shares=156)
    )
    assert isinstance(event, SeriesAuthorizationIncreased)
    assert event.authorized == 600  # 444 + 156
    book.record(closing(date(2003, 5, 14), (SCO, 100), (XMARK, 56), ref="D-2"))
    # $4.44 million + $1.56 million = $6 million raised in May 2003
    closings = [e for e in book.events() if isinstance(e, ClosingCompleted)]
    assert sum((c.gross for c in closings), D(0)) == D("6000000.00")
    assert book.state().closings == {"D-1": date(2003, 5, 8), "D-2": date(2003, 5, 14)}


def test_common_closing_needs_a_price_and_skips_authorization(book: Ledger) -> None:
    refused(book, closing(date(2003, 6, 1), ("Anyone", 1000), security="common"),
            InvalidInput, "needs --price-per-share")
    event = book.record(
        closing(date(2003, 6, 1), ("Anyone", 1000), security="Common", price_per_share=D("2.5"))
    )
    assert isinstance(event, ClosingCompleted)
    assert event.security == "common"
    assert event.gross == D("2500.00")  # 1,000 x 2.50


def test_names_are_trimmed(book: Ledger) -> None:
    book.record(designate(name="  Series D  "))
    event = book.record(closing(date(2003, 5, 8), ("  SCO Capital Partners ", 10), ref=" D-1 "))
    assert isinstance(event, ClosingCompleted)
    assert event.ref == "D-1"
    assert event.allocations[0].investor == SCO
    assert list(book.state().series) == [SERIES]


# --- accrual and dividends ---------------------------------------------------------------------


def test_holder_accrual_sums_its_lots_then_rounds(book: Ledger) -> None:
    book.record(designate())
    book.record(closing(date(2003, 5, 8), ("A", 1), ref="C1"))
    book.record(closing(date(2003, 5, 9), ("A", 2), ref="C2"))
    series = book.state().series[SERIES]
    lots = series.holder_lots("A")
    assert [(lot.id, lot.shares) for lot in lots] == [("C1/A", 1), ("C2/A", 2)]
    # C1/A: 1 x 10,000 x 8% x 2/365 = 1,600/365 = 4.383561...
    # C2/A: 2 x 10,000 x 8% x 1/365 = 1,600/365 = 4.383561...
    # together 3,200/365 = 8.767123... -> 8.77 (rounding each lot first would give 8.76)
    event = book.record(DeclareDividend(
        effective_date=date(2003, 5, 12), series=SERIES, through=date(2003, 5, 10), form="cash",
    ))
    assert isinstance(event, DividendDeclared)
    assert event.payments == (
        HolderDividend(holder="A", amount=D("8.77"), common_shares=0, cash=D("8.77")),
    )


def test_cash_dividend_then_accrual_restarts_at_the_through_date(book: Ledger) -> None:
    series_d(book)
    event = book.record(DeclareDividend(
        effective_date=date(2003, 7, 1), series=SERIES, through=date(2003, 6, 30), form="cash",
    ))
    assert isinstance(event, DividendDeclared)
    # May 8 -> Jun 30 = 53 days.
    # SCO: 200 x 10,000 x 8% x 53/365 = 8,480,000/365 = 23,232.8767... -> 23,232.88
    # SDS: 244 x 10,000 x 8% x 53/365 = 10,345,600/365 = 28,344.1095... -> 28,344.11
    assert [(p.holder, p.amount, p.cash, p.common_shares) for p in event.payments] == [
        (SCO, D("23232.88"), D("23232.88"), 0),
        (SDS, D("28344.11"), D("28344.11"), 0),
    ]
    assert (event.amount, event.cash, event.common_shares) == (D("51576.99"), D("51576.99"), 0)
    # After the dividend each lot accrues from Jun 30: Jun 30 -> Jul 31 = 31 days.
    # SDS converts all 244 on Jul 31: 244 x 10,000 x 8% x 31/365 = 6,051,200/365
    #   = 16,578.630136... -> 16,578.63
    conversion = book.record(RequestConversion(
        effective_date=date(2003, 7, 31), series=SERIES, holder=SDS, shares=244,
    ))
    assert isinstance(conversion, ConversionRequested)
    assert conversion.accrued == D("16578.63")
    # value 2,440,000.00 + 16,578.63 = 2,456,578.63; / 2.35 = 1,045,352.608... -> 1,045,352
    # 1,045,352 x 2.35 = 2,456,577.20; cash in lieu 1.43
    assert conversion.value == D("2456578.63")
    assert (conversion.common_shares, conversion.cash_in_lieu) == (1_045_352, D("1.43"))


def test_stock_dividend_floors_shares_and_pays_cash_in_lieu(book: Ledger) -> None:
    series_d(book)
    event = book.record(DeclareDividend(
        effective_date=date(2003, 7, 1), series=SERIES, through=date(2003, 6, 30), form="stock",
        price=D("3.10"),
    ))
    assert isinstance(event, DividendDeclared)
    # SCO 23,232.88 / 3.10 = 7,494.477... -> 7,494 sh; 7,494 x 3.10 = 23,231.40; cash 1.48
    # SDS 28,344.11 / 3.10 = 9,143.261... -> 9,143 sh; 9,143 x 3.10 = 28,343.30; cash 0.81
    assert event.payments == (
        HolderDividend(holder=SCO, amount=D("23232.88"), common_shares=7494, cash=D("1.48")),
        HolderDividend(holder=SDS, amount=D("28344.11"), common_shares=9143, cash=D("0.81")),
    )
    # 7,494 + 9,143 = 16,637 sh; 1.48 + 0.81 = 2.29 cash; 51,576.99 declared
    assert (event.amount, event.common_shares, event.cash) == (D("51576.99"), 16_637, D("2.29"))
    assert event.price == D("3.10")


def test_dividend_30_360(book: Ledger) -> None:
    series_d(book, day_count="30/360")
    event = book.record(DeclareDividend(
        effective_date=date(2003, 7, 1), series=SERIES, through=date(2003, 6, 30), form="cash",
    ))
    assert isinstance(event, DividendDeclared)
    # 30/360 May 8 -> Jun 30 = 30 + 22 = 52 days
    # SCO 200 x 10,000 x 8% x 52/360 = 8,320,000/360 = 23,111.111... -> 23,111.11
    # SDS 244 x 10,000 x 8% x 52/360 = 10,150,400/360 = 28,195.555... -> 28,195.56
    assert [p.amount for p in event.payments] == [D("23111.11"), D("28195.56")]


def test_non_cumulative_pays_the_period_since_the_last_through_and_converts_none(
    book: Ledger,
) -> None:
    series_d(book, cumulative=False)
    first = book.record(DeclareDividend(
        effective_date=date(2003, 7, 1), series=SERIES, through=date(2003, 6, 30), form="cash",
    ))
    assert isinstance(first, DividendDeclared)
    # the period since issue: May 8 -> Jun 30 = 53 days; SCO 23,232.88 as for cumulative
    assert first.payments[0].amount == D("23232.88")
    second = book.record(DeclareDividend(
        effective_date=date(2003, 10, 1), series=SERIES, through=date(2003, 9, 30), form="cash",
    ))
    assert isinstance(second, DividendDeclared)
    # only since Jun 30: Jun 30 -> Sep 30 = 92 days
    # SCO 200 x 10,000 x 8% x 92/365 = 14,720,000/365 = 40,328.767... -> 40,328.77
    assert second.payments[0].amount == D("40328.77")
    # a conversion carries no accrued dividends on a non-cumulative series:
    # 10 sh x 10,000 = 100,000.00 / 2.35 = 42,553.19... -> 42,553; 42,553 x 2.35 = 99,999.55
    conversion = book.record(RequestConversion(
        effective_date=date(2003, 11, 15), series=SERIES, holder=SCO, shares=10,
    ))
    assert isinstance(conversion, ConversionRequested)
    assert (conversion.accrued, conversion.value) == (D("0.00"), D("100000.00"))
    assert (conversion.common_shares, conversion.cash_in_lieu) == (42_553, D("0.45"))


# --- conversion --------------------------------------------------------------------------------


def test_fifo_conversion_across_two_lots_converting_accrued(book: Ledger) -> None:
    series_d(book)
    second_closing(book)
    event = book.record(RequestConversion(
        effective_date=date(2003, 6, 30), series=SERIES, holder=SCO, shares=250,
    ))
    assert isinstance(event, ConversionRequested)
    # Oldest lot first: all 200 of D-1/SCO (from May 8), then 50 of the 100 in D-2/SCO.
    # D-1/SCO: 200 x 10,000 x 8% x 53/365 = 8,480,000/365 = 23,232.876712... -> 23,232.88
    # D-2/SCO:  50 x 10,000 x 8% x 47/365 = 1,880,000/365 =  5,150.684931... ->  5,150.68
    assert event.lots == (
        LotConversion(lot="D-1/SCO Capital Partners", shares=200, accrued=D("23232.88")),
        LotConversion(lot="D-2/SCO Capital Partners", shares=50, accrued=D("5150.68")),
    )
    # Whole notice: (848,000,000 + 188,000,000) / 36,500 = 28,383.561643... -> 28,383.56
    # value = 250 x 10,000 + 28,383.56 = 2,528,383.56
    # common = floor(2,528,383.56 / 2.35) = floor(1,075,907.897...) = 1,075,907
    # cash in lieu = 2,528,383.56 - 1,075,907 x 2.35 (= 2,528,381.45) = 2.11
    assert (event.stated_value, event.accrued, event.value) == (
        D("2500000.00"), D("28383.56"), D("2528383.56"),
    )
    assert (event.common_shares, event.cash_in_lieu) == (1_075_907, D("2.11"))
    assert event.accrued_converted is True
    assert event.accrued_paid_in_cash == D("0.00")
    series = book.state().series[SERIES]
    assert series.holdings() == {SCO: 50, SDS: 244, XMARK: 56}
    assert (series.issued, series.converted, series.outstanding) == (600, 250, 350)


def test_fifo_conversion_with_accrued_paid_in_cash(book: Ledger) -> None:
    series_d(book, convert_accrued=False)
    second_closing(book)
    event = book.record(RequestConversion(
        effective_date=date(2003, 6, 30), series=SERIES, holder=SCO, shares=250,
    ))
    assert isinstance(event, ConversionRequested)
    # value = stated only: 250 x 10,000 = 2,500,000.00
    # common = floor(2,500,000 / 2.35) = floor(1,063,829.787...) = 1,063,829
    # cash in lieu = 2,500,000 - 1,063,829 x 2.35 (= 2,499,998.15) = 1.85
    # the accrued 28,383.56 (as above) is paid in cash and stored on the event
    assert event.value == D("2500000.00")
    assert (event.common_shares, event.cash_in_lieu) == (1_063_829, D("1.85"))
    assert event.accrued_converted is False
    assert event.accrued == event.accrued_paid_in_cash == D("28383.56")


def test_converted_shares_are_retired_not_reissued(book: Ledger) -> None:
    series_d(book)
    book.record(RequestConversion(
        effective_date=date(2003, 6, 30), series=SERIES, holder=SCO, shares=100,
    ))
    # 444 issued ever of 444 authorized: the 100 converted do not free room
    refused(book, closing(date(2003, 7, 1), ("New", 100)), InvariantViolation,
            "only 0 of its 444 authorized shares remain")


# --- warrants ----------------------------------------------------------------------------------


def warrant(on: date = date(2003, 5, 8), ref: str = "W-1", **kw: Any) -> IssueWarrants:
    values: dict[str, Any] = {
        "holder": SCO, "shares": 944_681, "exercise_price": D("3.00"),
        "expires": date(2008, 5, 8), "label": "Series D-1",
    }
    values.update(kw)
    return IssueWarrants(effective_date=on, ref=ref, **values)


def test_cash_and_cashless_exercise(book: Ledger) -> None:
    book.record(warrant())
    cash = book.record(ExerciseWarrants(effective_date=date(2004, 1, 15), warrant="W-1",
                                        shares=10_000))
    assert isinstance(cash, WarrantsExercised)
    # 10,000 x 3.00 = 30,000.00 received, 10,000 common issued
    assert (cash.proceeds, cash.common_shares) == (D("30000.00"), 10_000)
    net = book.record(ExerciseWarrants(effective_date=date(2004, 2, 2), warrant="W-1",
                                       shares=100_000, cashless=True, market_price=D("4.10")))
    assert isinstance(net, WarrantsExercised)
    # floor(100,000 x (4.10 - 3.00) / 4.10) = floor(26,829.268...) = 26,829; no cash
    assert (net.common_shares, net.proceeds) == (26_829, D("0.00"))
    # 944,681 - 10,000 - 100,000 = 834,681 outstanding
    assert book.state().warrants["W-1"].outstanding == 834_681


def test_exercise_on_the_expiry_date_is_allowed_the_day_after_is_not(book: Ledger) -> None:
    book.record(warrant())
    refused(book, ExerciseWarrants(effective_date=date(2008, 5, 9), warrant="W-1", shares=1),
            InvariantViolation, "expired on 2008-05-08")
    event = book.record(
        ExerciseWarrants(effective_date=date(2008, 5, 8), warrant="W-1", shares=944_681)
    )
    assert isinstance(event, WarrantsExercised)
    state = book.state()
    assert not state.warrants["W-1"].expired_on(date(2008, 5, 8))
    assert state.warrants["W-1"].expired_on(date(2008, 5, 9))


def test_the_count_on_the_instrument_is_kept(book: Ledger) -> None:
    event = book.record(warrant(shares=331_914, exercise_price=D("3.50")))
    assert isinstance(event, WarrantsIssued)
    assert (event.shares, event.exercise_price) == (331_914, D("3.50"))


# --- invariants: each refused, nothing recorded ------------------------------------------------


def test_shares_must_be_whole_and_positive(book: Ledger) -> None:
    series_d(book)
    book.record(warrant())
    on = date(2003, 6, 1)
    refused(book, IncreaseAuthorization(effective_date=on, series=SERIES, shares=0),
            InvalidInput, "whole positive")
    refused(book, closing(on, ("X", 0)), InvalidInput, "whole positive")
    refused(book, closing(on, ("X", -5)), InvalidInput, "whole positive")
    refused(book, warrant(on, ref="W-2", shares=0), InvalidInput, "whole positive")
    refused(book, ExerciseWarrants(effective_date=on, warrant="W-1", shares=0),
            InvalidInput, "whole positive")
    refused(book, RequestConversion(effective_date=on, series=SERIES, holder=SCO, shares=0),
            InvalidInput, "whole positive")
    refused(book, ReportCommonOutstanding(effective_date=on, shares=0), InvalidInput,
            "whole positive")
    refused(book, designate(name="B", authorized=True), InvalidInput, "whole positive")
    refused(book, designate(name="B", authorized=10**15), InvalidInput, "too large")


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("stated_value", D("0"), "more than zero"),
        ("stated_value", D("-10000"), "more than zero"),
        ("conversion_price", D("NaN"), "finite decimal"),
        ("conversion_price", D("Infinity"), "finite decimal"),
        ("conversion_price", 2.35, "finite decimal"),  # a float is never money
        ("dividend_rate", D("-1"), "zero or more"),
        ("dividend_rate", D("101"), "over 100%"),
        ("par_value", D("-0"), "zero or more"),
        ("stated_value", D("1e15"), "too large"),
        ("conversion_price", D("2.35000000001"), "decimal places"),
    ],
)
def test_money_must_be_finite_positive_decimal(
    book: Ledger, field: str, value: Any, match: str
) -> None:
    refused(book, designate(**{field: value}), InvalidInput, match)


def test_other_money_fields_are_checked(book: Ledger) -> None:
    series_d(book)
    book.record(warrant())
    on = date(2003, 6, 1)
    refused(book, closing(on, ("X", 1), price_per_share=D("0")), InvalidInput, "more than zero")
    refused(book, closing(on, ("X", 1), fees=D("-1")), InvalidInput, "zero or more")
    refused(book, closing(on, ("X", 1), fees=D("10000.01")), InvalidInput, "exceed the gross")
    refused(book, warrant(on, ref="W-2", exercise_price=D("0")), InvalidInput, "more than zero")
    refused(book, ExerciseWarrants(effective_date=on, warrant="W-1", shares=1, cashless=True,
                                   market_price=D("NaN")), InvalidInput, "finite")
    refused(book, DeclareDividend(effective_date=on, series=SERIES, through=on, form="stock",
                                  price=D("0")), InvalidInput, "more than zero")


def test_a_series_exists_before_anything_refers_to_it(book: Ledger) -> None:
    book.record(designate())
    on = date(2003, 6, 1)
    for command in (
        IncreaseAuthorization(effective_date=on, series="Series E", shares=1),
        closing(on, ("X", 1), security="Series E"),
        DeclareDividend(effective_date=on, series="Series E", through=on, form="cash"),
        RequestConversion(effective_date=on, series="Series E", holder=SCO, shares=1),
    ):
        message = refused(book, command, InvariantViolation, "'Series E' is not designated")
        assert "Series D" in message  # says what would be right


def test_nothing_is_dated_before_its_series_designation(book: Ledger) -> None:
    book.record(designate(on=date(2003, 5, 8)))
    early = date(2003, 5, 7)
    refused(book, closing(early, ("X", 1)), InvariantViolation, "not designated")
    refused(book, IncreaseAuthorization(effective_date=early, series=SERIES, shares=1),
            InvariantViolation, "not designated")
    book.record(closing(date(2003, 5, 8), ("X", 1)))
    # declared after designation, but through a date before it
    refused(book, DeclareDividend(effective_date=date(2003, 5, 9), series=SERIES,
                                  through=early, form="cash"),
            InvariantViolation, "before series 'Series D' was designated")


def test_names_and_references_are_unique(book: Ledger) -> None:
    series_d(book)
    refused(book, designate(on=date(2003, 6, 1)), InvariantViolation, "already designated")
    refused(book, closing(date(2003, 6, 1), ("X", 1), ref="D-1"), InvariantViolation,
            "'D-1' is already used")
    refused(book, warrant(ref="D-1"), InvariantViolation, "'D-1' is already used")
    book.record(warrant(ref="W-1"))
    refused(book, warrant(date(2003, 6, 1), ref="W-1"), InvariantViolation, "already used")
    refused(book, closing(date(2003, 6, 1), ("X", 1), ref="W-1"), InvariantViolation,
            "already used")


def test_a_reference_used_later_cannot_be_taken_by_a_back_dated_entry(book: Ledger) -> None:
    book.record(warrant(date(2003, 6, 1), ref="W-9"))
    message = refused(book, warrant(date(2003, 5, 8), ref="W-9"), InvariantViolation,
                      "'W-9' is already used")
    assert "back-dated" in message


def test_an_investor_appears_once_in_a_closing(book: Ledger) -> None:
    book.record(designate())
    refused(book, closing(date(2003, 5, 8), (SCO, 100), (SDS, 100), (" SCO Capital Partners", 1)),
            InvalidInput, "more than once")


def test_names_are_never_empty_or_invisible(book: Ledger) -> None:
    refused(book, designate(name="   "), InvalidInput, "empty")
    refused(book, designate(name="\u200b\u00a0"), InvalidInput, "empty")
    refused(book, designate(name="Series\tD"), InvalidInput, "U\\+0009")
    refused(book, designate(name="Series\x85D"), InvalidInput, "U\\+0085")
    refused(book, designate(name="Series \u202eD"), InvalidInput, "U\\+202E")
    refused(book, designate(name="Series \udcffD"), InvalidInput, "U\\+DCFF")
    refused(book, designate(name="x" * 201), InvalidInput, "keep it to 200")
    refused(book, designate(name="COMMON"), InvalidInput, "reserved")


def test_shares_issued_never_exceed_authorized(book: Ledger) -> None:
    book.record(designate())
    refused(book, closing(date(2003, 5, 8), (SCO, 445)), InvariantViolation,
            "would issue 445 shares")
    book.record(closing(date(2003, 5, 8), (SCO, 400), ref="D-1"))
    refused(book, closing(date(2003, 5, 9), (SDS, 45)), InvariantViolation,
            "only 44 of its 444 authorized")


def test_a_back_dated_closing_is_checked_against_later_closings(book: Ledger) -> None:
    book.record(designate())  # 444 authorized on May 8
    book.record(closing(date(2003, 5, 8), (SCO, 400), ref="D-1"))  # 44 left
    book.record(IncreaseAuthorization(effective_date=date(2003, 5, 14), series=SERIES,
                                      shares=156))  # 600 from May 14
    book.record(closing(date(2003, 5, 14), (SDS, 200), ref="D-2"))  # 400 + 200 = 600
    # Back-dated to May 10, 44 shares fit that day (400 + 44 = 444) but make the later D-2
    # issue 444 + 200 = 644 > 600.
    message = refused(book, closing(date(2003, 5, 10), (XMARK, 44)), InvariantViolation,
                      "back-dated to 2003-05-10")
    assert "later ClosingCompleted at position 4" in message
    assert "only 156 of its 600 authorized shares remain" in message
    # 45 do not fit even on May 10 itself
    refused(book, closing(date(2003, 5, 10), (XMARK, 45)), InvariantViolation,
            "only 44 of its 444 authorized shares remain unissued on 2003-05-10")
    # with 44 more authorized from May 9 the same back-dated closing is accepted
    book.record(IncreaseAuthorization(effective_date=date(2003, 5, 9), series=SERIES,
                                      shares=44))
    book.record(closing(date(2003, 5, 10), (XMARK, 44)))
    series = book.state().series[SERIES]
    assert (series.issued, series.authorized) == (644, 644)


def test_a_warrant_expiry_is_on_or_after_its_issue(book: Ledger) -> None:
    refused(book, warrant(date(2003, 5, 8), expires=date(2003, 5, 7)), InvariantViolation,
            "expiry 2003-05-07 is before its issue date 2003-05-08")
    assert isinstance(book.record(warrant(date(2003, 5, 8), expires=date(2003, 5, 8))),
                      WarrantsIssued)


def test_a_warrant_may_name_only_an_earlier_closing(book: Ledger) -> None:
    series_d(book)
    refused(book, warrant(date(2003, 5, 8), ref="W-2", closing="D-9"), InvariantViolation,
            "closing 'D-9' is not recorded")
    refused(book, warrant(date(2003, 5, 7), ref="W-2", closing="D-1"), InvariantViolation,
            "closing 'D-1' is not recorded on or before 2003-05-07")
    event = book.record(warrant(date(2003, 5, 8), ref="W-2", closing="D-1"))
    assert isinstance(event, WarrantsIssued)
    assert event.closing == "D-1"


def test_a_holder_converts_at_most_what_it_holds(book: Ledger) -> None:
    series_d(book)
    message = refused(book, RequestConversion(effective_date=date(2003, 6, 1), series=SERIES,
                                              holder=SCO, shares=201),
                      InvariantViolation, "holds 200 shares")
    assert "at most that many, not 201" in message
    refused(book, RequestConversion(effective_date=date(2003, 6, 1), series=SERIES,
                                    holder="Nobody", shares=1),
            InvariantViolation, "holds 0 shares")


def test_a_back_dated_conversion_that_makes_a_later_one_over_convert(book: Ledger) -> None:
    series_d(book)
    book.record(RequestConversion(effective_date=date(2003, 8, 1), series=SERIES, holder=SCO,
                                  shares=150))
    # on Jul 1 SCO still holds 200, so 100 looks fine on its own; but then Aug 1's 150 would
    # find only 100
    message = refused(book, RequestConversion(effective_date=date(2003, 7, 1), series=SERIES,
                                              holder=SCO, shares=100),
                      InvariantViolation, "back-dated to 2003-07-01")
    assert "ConversionRequested at position 3" in message
    assert "holds 100 shares" in message
    # 50 fits both
    book.record(RequestConversion(effective_date=date(2003, 7, 1), series=SERIES, holder=SCO,
                                  shares=50))
    assert SCO not in book.state().series[SERIES].holdings()  # 50 + 150 = all 200


def test_warrants_are_exercised_at_most_to_what_is_outstanding(book: Ledger) -> None:
    book.record(warrant(shares=1000))
    refused(book, ExerciseWarrants(effective_date=date(2004, 1, 1), warrant="W-1", shares=1001),
            InvariantViolation, "1,000 shares outstanding")
    book.record(ExerciseWarrants(effective_date=date(2004, 6, 1), warrant="W-1", shares=600))
    # back-dated: 500 on Mar 1 fits alone, but then Jun 1's 600 would exceed
    refused(book, ExerciseWarrants(effective_date=date(2004, 3, 1), warrant="W-1", shares=500),
            InvariantViolation, "back-dated")
    book.record(ExerciseWarrants(effective_date=date(2004, 3, 1), warrant="W-1", shares=400))
    assert book.state().warrants["W-1"].outstanding == 0


def test_no_exercise_before_issue_or_of_an_unknown_warrant(book: Ledger) -> None:
    book.record(warrant(date(2003, 5, 8)))
    refused(book, ExerciseWarrants(effective_date=date(2003, 5, 7), warrant="W-1", shares=1),
            InvariantViolation, "no warrant 'W-1' is issued on or before 2003-05-07")
    refused(book, ExerciseWarrants(effective_date=date(2003, 6, 1), warrant="W-404", shares=1),
            InvariantViolation, "no warrant 'W-404'")


def test_a_back_dated_expiry_cannot_strand_a_later_exercise(book: Ledger) -> None:
    book.record(warrant(date(2003, 5, 8), ref="W-1", expires=None))
    book.record(ExerciseWarrants(effective_date=date(2004, 1, 1), warrant="W-1", shares=1))
    # a second warrant is fine; the check is on the exercise of W-1 only
    book.record(warrant(date(2003, 5, 8), ref="W-2", expires=date(2003, 12, 31)))
    refused(book, ExerciseWarrants(effective_date=date(2004, 1, 1), warrant="W-2", shares=1),
            InvariantViolation, "expired on 2003-12-31")


def test_cashless_exercise_needs_a_market_price_above_the_strike(book: Ledger) -> None:
    book.record(warrant())
    on = date(2004, 1, 1)
    refused(book, ExerciseWarrants(effective_date=on, warrant="W-1", shares=1, cashless=True),
            InvalidInput, "needs --market-price")
    refused(book, ExerciseWarrants(effective_date=on, warrant="W-1", shares=1, cashless=True,
                                   market_price=D("3.00")),
            InvariantViolation, "above the exercise price 3.00")
    refused(book, ExerciseWarrants(effective_date=on, warrant="W-1", shares=1, cashless=True,
                                   market_price=D("2.00")),
            InvariantViolation, "above the exercise price")


def test_dividends_are_declared_through_later_dates(book: Ledger) -> None:
    series_d(book)
    book.record(DeclareDividend(effective_date=date(2003, 7, 1), series=SERIES,
                                through=date(2003, 6, 30), form="cash"))
    for through in (date(2003, 6, 30), date(2003, 6, 1)):
        refused(book, DeclareDividend(effective_date=date(2003, 10, 1), series=SERIES,
                                      through=through, form="cash"),
                InvariantViolation, "already has dividends declared through 2003-06-30")
    refused(book, DeclareDividend(effective_date=date(2003, 9, 1), series=SERIES,
                                  through=date(2003, 9, 30), form="cash"),
            InvariantViolation, "after the declaration date")
    # Declared Jun 20 through Jun 20 is later than nothing before it, and the Jul 1 dividend
    # through Jun 30 is still later; but that dividend already paid May 8 -> Jun 30, so
    # paying May 8 -> Jun 20 again would pay 43 days twice.
    message = refused(book, DeclareDividend(effective_date=date(2003, 6, 20), series=SERIES,
                                            through=date(2003, 6, 20), form="cash"),
                      InvariantViolation, "back-dated to 2003-06-20")
    # The entry that breaks it is the one being recorded: no position names it yet.
    assert "position 4" not in message and "date that entry on or after 2003-07-01" in message


def dividend_jul_1(book: Ledger) -> DividendDeclared:
    event = book.record(DeclareDividend(effective_date=date(2003, 7, 1), series=SERIES,
                                        through=date(2003, 6, 30), form="cash"))
    assert isinstance(event, DividendDeclared)
    return event


def test_a_back_dated_closing_cannot_change_a_later_dividend(book: Ledger) -> None:
    series_d(book, authorized=600)
    dividend_jul_1(book)  # position 3, computed on SCO 200 and SDS 244
    # Xmark's 56 from May 14 would have earned May 14 -> Jun 30 in that dividend, and after it
    # would accrue only from Jun 30: 47 days of dividends silently lost.
    message = refused(book, closing(date(2003, 5, 14), (XMARK, 56)), InvariantViolation,
                      "back-dated to 2003-05-14, this would invalidate the later "
                      "DividendDeclared at position 3")
    assert "reverse the dividend" in message
    # dated on the declaration date itself it comes after the dividend: accepted
    book.record(closing(date(2003, 7, 1), (XMARK, 56)))
    # an authorization changes nothing that accrues: accepted back-dated
    book.record(IncreaseAuthorization(effective_date=date(2003, 5, 9), series=SERIES, shares=1))


def test_a_back_dated_conversion_cannot_change_a_later_dividend(book: Ledger) -> None:
    series_d(book)
    dividend_jul_1(book)
    # converting on Jun 15 pays SCO's accrual May 8 -> Jun 15 on conversion, which the Jul 1
    # dividend already paid through Jun 30
    refused(book, RequestConversion(effective_date=date(2003, 6, 15), series=SERIES,
                                    holder=SCO, shares=200),
            InvariantViolation, "DividendDeclared at position 3")


def test_a_back_dated_dividend_cannot_change_a_later_conversion(book: Ledger) -> None:
    series_d(book)
    conversion = book.record(RequestConversion(effective_date=date(2003, 8, 1), series=SERIES,
                                               holder=SCO, shares=100))
    assert isinstance(conversion, ConversionRequested)
    # the conversion converted the accrual May 8 -> Aug 1 on its 100 shares; a dividend
    # through Jun 30 would pay May 8 -> Jun 30 on them again
    message = refused(book, DeclareDividend(effective_date=date(2003, 7, 1), series=SERIES,
                                            through=date(2003, 6, 30), form="cash"),
                      InvariantViolation, "ConversionRequested at position 3")
    assert "computed its accrued dividends without the dividend" in message
    # declared on or after the conversion date it is accepted, on what is left
    event = book.record(DeclareDividend(effective_date=date(2003, 8, 1), series=SERIES,
                                        through=date(2003, 6, 30), form="cash"))
    assert isinstance(event, DividendDeclared)
    # SCO's remaining 100: 100 x 10,000 x 8% x 53/365 = 4,240,000/365 = 11,616.438... -> 11,616.44
    assert event.payments[0] == HolderDividend(
        holder=SCO, amount=D("11616.44"), common_shares=0, cash=D("11616.44")
    )


def test_dividends_only_in_a_form_the_series_allows(book: Ledger) -> None:
    series_d(book, dividend_form="cash")
    refused(book, DeclareDividend(effective_date=date(2003, 7, 1), series=SERIES,
                                  through=date(2003, 6, 30), form="stock", price=D("3.10")),
            InvariantViolation, "pays dividends in cash only")
    refused(book, DeclareDividend(effective_date=date(2003, 7, 1), series=SERIES,
                                  through=date(2003, 6, 30), form="stock"),
            InvalidInput, "needs --price")
    refused(book, DeclareDividend(effective_date=date(2003, 7, 1), series=SERIES,
                                  through=date(2003, 6, 30), form="bonds"),
            InvalidInput, "cash or stock")


def test_a_reversal_that_would_break_history_is_refused(book: Ledger) -> None:
    series_d(book)  # positions 1, 2
    book.record(RequestConversion(effective_date=date(2003, 8, 1), series=SERIES, holder=SCO,
                                  shares=100))  # 3
    before = book.events()
    with pytest.raises(InvariantViolation, match="cannot reverse ClosingCompleted at position 2"):
        book.reverse(2, "wrong closing")
    with pytest.raises(InvariantViolation, match="cannot reverse SeriesDesignated"):
        book.reverse(1, "wrong series")
    assert book.events() == before
    book.reverse(3, "entered twice")  # 4
    with pytest.raises(InvariantViolation, match="never reversed"):
        book.reverse(4, "undo the undo")
    with pytest.raises(InvariantViolation, match="already reversed by position 4"):
        book.reverse(3, "again")
    with pytest.raises(NotFound, match="positions run from 1 to 4"):
        book.reverse(9, "no such event")
    assert len(book.events()) == 4
    # with the conversion reversed, SCO holds its 200 again
    assert book.state().series[SERIES].holdings()[SCO] == 200


# --- the pure fold, with events built in the test ----------------------------------------------


def built(cls: type[Any], position: int, on: date, **fields: Any) -> Any:
    from datetime import UTC, datetime
    from uuid import UUID

    return cls(originator_id=UUID(int=0), originator_version=position, effective_date=on,
               recorded_at=datetime(2020, 1, 1, tzinfo=UTC), actor="t", prev_hash="", hash="",
               **fields)


def test_timeline_orders_by_date_then_position_and_drops_reversals() -> None:
    from events import CommonOutstandingReported, EventReversed
    from ledger.state import timeline

    a = built(CommonOutstandingReported, 1, date(2003, 5, 9), shares=1)
    b = built(CommonOutstandingReported, 2, date(2003, 5, 8), shares=2)
    c = built(CommonOutstandingReported, 3, date(2003, 5, 8), shares=3)
    undo = built(EventReversed, 4, date(2003, 6, 1), reversed_position=2, reason="typo",
                 reversed=b)
    assert [e.originator_version for e in timeline([a, b, c])] == [2, 3, 1]
    assert [e.originator_version for e in timeline([a, b, c, undo])] == [3, 1]


def test_the_fold_refuses_an_over_conversion_built_by_hand() -> None:
    from events import Allocation, SeriesDesignated
    from ledger.state import fold

    designated = built(SeriesDesignated, 1, date(2003, 5, 8), series=SERIES,
                       stated_value=D("10000"), par_value=D("0"), conversion_price=D("2.35"),
                       dividend_rate=D("8"), authorized=444, cumulative=True,
                       frequency="quarterly", day_count="actual/365", dividend_form="either",
                       convert_accrued=True)
    sold = built(ClosingCompleted, 2, date(2003, 5, 8), ref="D-1", security=SERIES,
                 price_per_share=D("10000"),
                 allocations=(Allocation(investor=SCO, shares=200, gross=D("2000000.00")),),
                 shares=200, gross=D("2000000.00"), fees=D("0.00"), net=D("2000000.00"))

    def conversion(position: int, shares: int) -> ConversionRequested:
        event: ConversionRequested = built(ConversionRequested, position, date(2003, 6, 1), series=SERIES,
                     holder=SCO, shares=shares,
                     lots=(LotConversion(lot=f"D-1/{SCO}", shares=shares, accrued=D("0")),),
                     stated_value=D(shares * 10000), accrued=D("0"), accrued_converted=True,
                     value=D(shares * 10000), common_shares=0, cash_in_lieu=D("0"),
                     accrued_paid_in_cash=D("0"))
        return event

    state = fold([designated, sold, conversion(3, 150)])
    assert state.series[SERIES].holdings() == {SCO: 50}
    with pytest.raises(InvariantViolation, match="holds 50 shares") as info:
        fold([designated, sold, conversion(3, 150), conversion(4, 51)])
    assert info.value.position == 4
