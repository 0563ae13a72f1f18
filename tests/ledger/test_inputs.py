"""The input rules (`ledger.inputs`): look-alike names are one name or refused, and every
malformed value is refused saying what is wrong and what would be right, on the command line
as in the service."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledger import inputs
from ledger.errors import InvalidInput

SERIES = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
          "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"]


def closing(*investors: str) -> list[str]:
    args = ["record", "closing", "Series D", "--date", "2003-05-08"]
    for investor in investors:
        args += ["--investor", investor]
    return args


def events(fl: Any) -> list[dict[str, Any]]:
    result = fl("log", "--json")
    assert result.code == 0, result.err
    entries: list[dict[str, Any]] = json.loads(result.out)
    return entries


def refused_line(result: Any, code: int, *words: str) -> None:
    assert result.code == code, (result.out, result.err)
    assert result.err.startswith("Error: ") and result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err
    for word in words:
        assert word in result.err, result.err


# --- look-alike names ------------------------------------------------------------------------

ZWSP, WORD_JOINER, BOM, SOFT_HYPHEN = "\u200b", "\u2060", "\ufeff", "\u00ad"


@pytest.mark.parametrize("invisible", [ZWSP, WORD_JOINER, BOM, SOFT_HYPHEN, "\u2063", "\U000e0041"])
def test_invisible_format_characters_are_refused_in_names(invisible: str) -> None:
    with pytest.raises(InvalidInput, match=f"U\\+{ord(invisible):04X}"):
        inputs.clean_name(f"Same{invisible}", "--holder")
    with pytest.raises(InvalidInput, match="invisible"):
        inputs.clean_name(f"Sa{invisible}me", "--holder")


def test_the_format_characters_scripts_need_are_kept_where_they_show() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467 Family Office"  # emoji joined by ZWJ
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # ZWNJ inside a Persian word
    hebrew = "\u200f\u05de\u05e9\u05e7\u05d9\u05e2\u200f Capital"  # RLM beside Hebrew
    for name in (family, persian, hebrew):
        assert inputs.clean_name(name, "name") == name
    for lone in ("Same\u200d", "\u200dSame", "Sa \u200dme", "Same\u200f", "\u200eSame"):
        with pytest.raises(InvalidInput, match="invisible"):
            inputs.clean_name(lone, "name")


def test_names_are_composed_so_one_name_has_one_spelling() -> None:
    composed, decomposed = "Caf\u00e9", "Cafe\u0301"
    assert inputs.clean_name(decomposed, "name") == composed
    assert inputs.clean_name(composed, "name") == composed
    assert unicodedata.is_normalized("NFC", inputs.clean_name("Zo\u0308e Ventures", "name"))


def test_a_zero_width_twin_of_an_investor_is_refused(fl: Any) -> None:
    assert fl(*SERIES).code == 0
    before = len(events(fl))
    refused_line(fl(*closing("Same=1", f"Same{ZWSP}=2")), 1, "U+200B")
    refused_line(fl(*closing(f"SCO Capital Partners{ZWSP}=2")), 1, "U+200B")
    assert len(events(fl)) == before


def test_composed_and_decomposed_spellings_are_one_investor(fl: Any) -> None:
    assert fl(*SERIES).code == 0
    refused_line(fl(*closing("Caf\u00e9=1", "Cafe\u0301=2")), 1, "more than once")
    assert fl(*closing("Cafe\u0301 Partners=3")).code == 0
    holders = [a["investor"] for a in events(fl)[-1]["data"]["allocations"]]
    assert holders == ["Caf\u00e9 Partners"]
    converted = fl("record", "conversion", "Series D", "--holder", "Caf\u00e9 Partners",
                   "--shares", "1", "--date", "2003-06-01")
    assert converted.code == 0, converted.err


# --- messages keep their reason --------------------------------------------------------------


@pytest.mark.parametrize(("text", "words"), [
    ("2023-02-29", ["no February 29 in 2023", "2023-02-28"]),
    ("2003-04-31", ["no April 31 in 2003", "2003-04-30"]),
    ("2003-13-01", ["no month 13", "01 to 12"]),
    ("2003-00-10", ["no month 00"]),
    ("2003-05-00", ["no May 0 in 2003", "2003-05-01 to 2003-05-31"]),
    ("0000-01-01", ["no year 0000"]),
    ("05/08/2003", ["YYYY-MM-DD", "2003-05-14"]),
])
def test_a_malformed_date_says_what_is_wrong_and_what_is_right(text: str, words: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        inputs.date_text(text)
    for word in words:
        assert word in str(caught.value)


def test_a_leap_day_is_a_date() -> None:
    assert inputs.date_text("2024-02-29") == date(2024, 2, 29)


@pytest.mark.parametrize(("text", "words"), [
    ("1e4", ["no exponents", "10000"]),
    ("1,000", ["no thousands separators", "1000"]),
    ("NaN", ["finite"]),
    ("Infinity", ["finite"]),
    ("", ["empty"]),
    ("2.3500001", ["7 decimal places", "at most 6", "2.35"]),
    ("10000000000", ["too large", "10,000,000,000"]),
    ("9" * 80, ["too large"]),
    ("-5", ["negative"]),
    ("\uff11\uff10", ["only the digits 0-9"]),
])
def test_a_malformed_decimal_says_why(text: str, words: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        inputs.decimal_text(text, "price")
    for word in words:
        assert word in str(caught.value), str(caught.value)


@pytest.mark.parametrize(("text", "words"), [
    ("1.5", ["whole", "no fraction"]),
    ("0", ["positive", "1 or more"]),
    ("-3", ["negative"]),
    ("1e3", ["no separators or exponents"]),
    ("1000000000000", ["too many", "999,999,999,999"]),
])
def test_malformed_shares_say_why(text: str, words: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        inputs.shares_text(text)
    for word in words:
        assert word in str(caught.value), str(caught.value)


def test_rates_are_percent_from_zero_to_a_hundred() -> None:
    assert inputs.rate_text("8%") == Decimal("8")
    assert inputs.rate_text("0") == Decimal("0")
    with pytest.raises(InvalidInput, match="over 100%"):
        inputs.rate_text("100.5")
    with pytest.raises(InvalidInput, match="decimal places"):
        inputs.rate_text("8.1234567%")


@pytest.mark.parametrize(("option", "value", "words"), [
    ("--date", "2023-02-29", ["'--date'", "no February 29 in 2023", "2023-02-28"]),
    ("--stated-value", "1e4", ["'--stated-value'", "no exponents"]),
    ("--conversion-price", "2.3500001", ["'--conversion-price'", "7 decimal places"]),
    ("--dividend-rate", "108", ["'--dividend-rate'", "over 100%"]),
    ("--authorized", "44.4", ["'--authorized'", "whole"]),
])
def test_the_command_line_keeps_the_reason(
    fl: Any, option: str, value: str, words: list[str]
) -> None:
    args = list(SERIES)
    args[args.index(option) + 1] = value
    refused_line(fl(*args), 2, *words)
    assert "no ledger" in fl("log").err  # refused on the command line: nothing was created


def test_an_investor_with_bad_shares_names_the_option(fl: Any) -> None:
    assert fl(*SERIES).code == 0
    refused_line(fl(*closing("SCO=1.5")), 2, "'--investor'", "whole")
    refused_line(fl(*closing("SCO")), 2, "'--investor'", "NAME=SHARES")
