"""The limits (README.md, "Limits"): what is beyond them is refused before anything is
appended; what is within them is computed exactly, fits every table, and prints digit for
digit (never in exponent form)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from ledger.calc import MAX_AS_CONVERTED, MAX_MONEY, MAX_PLACES, MAX_SHARES
from ledger.commands import within_limits
from ledger.errors import InvalidInput

LIMIT = f"{MAX_SHARES:,}"
ALL_SERIES = f"{MAX_AS_CONVERTED:,}"


def series(name: str = "A", *, stated: str = "10000", price: str = "2.35",
           authorized: str = "600", rate: str = "8") -> list[str]:
    return ["record", "series", name, "--date", "2003-05-01", "--stated-value", stated,
            "--conversion-price", price, "--dividend-rate", rate, "--authorized", authorized]


def count(fl: Any) -> int:
    result = fl("log", "--json")
    if "no ledger" in result.err:
        return 0
    assert result.code == 0, result.err
    return len(json.loads(result.out))


def healthy(fl: Any) -> None:
    """Every report and the audit answer, with no traceback."""
    for command in (["report", "preferred", "--json"], ["report", "summary", "--json"],
                    ["report", "warrants"], ["report", "capital"], ["export"],
                    ["audit", "verify"]):
        result = fl(*command)
        assert result.code == 0, (command, result.err)
        assert "E+" not in result.out and "E-" not in result.out, (command, result.out)


def test_the_absurd_series_of_the_attack_is_refused_before_anything_is_appended(fl: Any) -> None:
    # stated 999,999,999,999,999 at 0.0000000001 and as many authorized: once accepted, one
    # converted share bricked every report
    result = fl(*series(stated="999999999999999", price="0.0000000001",
                        authorized="999999999999999"))
    assert result.code in (1, 2) and result.err.startswith("Error: "), result
    assert result.err.count("\n") == 1
    assert count(fl) == 0


def test_a_series_whose_as_converted_common_would_not_fit_is_refused(fl: Any) -> None:
    # every input within its own limit, the derived figure beyond: 200,000 x 10000 / 0.000001
    result = fl(*series(price="0.000001", authorized="200000"))
    assert result.code == 1, result
    assert "as-converted" in result.err and ALL_SERIES in result.err
    assert count(fl) == 0
    assert fl(*series(price="2.35")).code == 0
    result = fl("record", "authorization", "A", "--shares", "999999999000", "--date",
                "2003-05-02")
    assert result.code == 1 and "as-converted" in result.err, result
    # all series together: each within the limit, the second one too many with the first
    assert fl(*series("B", price="0.0001", authorized="6000000")).code == 0  # 6 x 10^14
    result = fl(*series("C", price="0.0001", authorized="6000000"))
    assert result.code == 1 and "with every other series" in result.err, result
    assert count(fl) == 2
    healthy(fl)


def test_figures_at_the_limits_are_exact_and_every_report_holds_them(fl: Any) -> None:
    top = str(MAX_MONEY - Decimal(1).scaleb(-MAX_PLACES))  # 9999999999.999999
    # the largest stated value, converting 1:1 into common; the largest closing it allows
    stated_shares = int(MAX_SHARES // (MAX_MONEY - 1))
    assert fl(*series(stated=top, price=top, authorized=str(stated_shares), rate="100")).code == 0
    assert fl("record", "closing", "A", "--date", "2003-05-01",
              "--investor", f"Whale={stated_shares}").code == 0
    result = fl("record", "warrants", "--holder", "Whale", "--shares", str(MAX_SHARES),
                "--exercise-price", top, "--date", "2003-05-01", "--ref", "W-1")
    assert result.code == 0, result.err
    result = fl("record", "common-outstanding", str(MAX_SHARES), "--date", "2003-05-01")
    assert result.code == 0, result.err
    # decades of 100% accrual on the largest stated value, converted: exact to the cent
    result = fl("record", "conversion", "A", "--holder", "Whale", "--shares", "1",
                "--date", "2093-05-01", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)["data"]
    stated, accrued = Decimal(data["stated_value"]), Decimal(data["accrued"])
    assert stated == Decimal(top).quantize(Decimal("0.01"))
    days = 32873  # 2003-05-01 to 2093-05-01
    exact = Decimal(top) * Decimal(days) / Decimal(365)
    assert accrued == exact.quantize(Decimal("0.01"))
    assert data["common_shares"] == int((stated + accrued) // Decimal(top))
    healthy(fl)
    proceeds = json.loads(fl("report", "warrants", "--json").out)["totals"]["potential_proceeds"]
    assert Decimal(proceeds) == (MAX_SHARES * Decimal(top)).quantize(Decimal("0.01"))
    assert "E" not in proceeds


def test_a_conversion_whose_common_would_not_fit_is_refused(fl: Any) -> None:
    # 1 share of stated 1,000 at 0.000001 converts into 1,000,000,000 common: within the
    # limit; with 100% a year for 9,000 years of accrued dividends it would not be
    assert fl(*series(stated="1000", price="0.000001", authorized="1", rate="100")).code == 0
    assert fl("record", "closing", "A", "--date", "2003-05-01", "--investor", "H=1").code == 0
    before = count(fl)
    result = fl("record", "conversion", "A", "--holder", "H", "--shares", "1",
                "--date", "9999-12-31")
    assert result.code == 1, result
    assert "common shares it would issue" in result.err and LIMIT in result.err
    assert count(fl) == before
    healthy(fl)


def test_a_stock_dividend_whose_common_would_not_fit_is_refused(fl: Any) -> None:
    assert fl(*series(stated="1000000", price="1000000", authorized="1000", rate="100")).code == 0
    assert fl("record", "closing", "A", "--date", "2003-05-01",
              "--investor", "H=1000").code == 0
    before = count(fl)
    result = fl("record", "dividend", "A", "--through", "2004-04-30", "--date", "2004-05-01",
                "--form", "stock", "--price", "0.000001")
    assert result.code == 1, result
    assert "common shares it would issue" in result.err
    assert count(fl) == before
    healthy(fl)


def test_small_prices_print_as_plain_digits(fl: Any) -> None:
    assert fl(*series(stated="1", price="0.000001", authorized="1000")).code == 0
    result = fl("log")
    assert "0.000001" in result.out and "1E-6" not in result.out
    result = fl("export")
    assert '"conversion_price":"0.000001"' in result.out
    healthy(fl)


@pytest.mark.parametrize("value", [Decimal("1E+3"), Decimal("0E-8"), Decimal("1E-7")])
def test_the_service_refuses_decimals_that_would_print_in_exponent_form(value: Decimal) -> None:
    from ledger.inputs import positive_money

    with pytest.raises(InvalidInput):
        positive_money(value, "price", allow_zero=True)


def test_within_limits_names_the_figure() -> None:
    within_limits(MAX_SHARES, "x")
    with pytest.raises(InvalidInput, match=LIMIT):
        within_limits(MAX_SHARES + 1, "converting 1 share of 'A'")
