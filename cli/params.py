"""Parsers for command-line values: a malformed value is a usage error (exit 2).

Money and prices are plain decimals (`10000`, `2.35`); thousands separators, exponents,
NaN and Infinity are refused. Dates are `YYYY-MM-DD`. Rates are percent (`8` or `8%`).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from ledger.calc import MAX_MONEY, MAX_PLACES, MAX_SHARES

# ASCII digits only: Python's \d and Decimal() also accept other scripts' digits ("٤٤٤").
_PLAIN_DECIMAL = re.compile(r"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)$", re.ASCII)
_PLAIN_INT = re.compile(r"^\+?[0-9]+$", re.ASCII)
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)


def parse_decimal(text: str | Decimal, what: str = "value") -> Decimal:
    if not isinstance(text, str):
        return text
    raw = text.strip()
    if raw.startswith("-"):
        raise ValueError(f"{text!r} is negative; give a positive amount")
    if not _PLAIN_DECIMAL.fullmatch(raw):
        hint = raw.replace(",", "") if "," in raw else "10000 or 2.35"
        raise ValueError(f"{text!r} is not a plain decimal {what}; write it like {hint}")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal; write it like 2.35") from None
    if value >= MAX_MONEY:
        raise ValueError(f"{text!r} is too large; give less than {MAX_MONEY:,.0f}")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        raise ValueError(f"{text!r} has more than {MAX_PLACES} decimal places; round it")
    return value


def parse_signed_decimal(text: str | Decimal, what: str = "value") -> Decimal:
    """A plain decimal that may be negative (`-250000` for a loss)."""
    if not isinstance(text, str):
        return text
    raw = text.strip()
    if raw.startswith("-"):
        value = parse_decimal(raw[1:], what)
        return -value if value else value
    return parse_decimal(raw, what)


def parse_shares(text: str | int) -> int:
    if not isinstance(text, str):
        return text
    raw = text.strip()
    if raw.startswith("-"):
        raise ValueError(f"{text!r} is negative; give a positive number of shares, like 444")
    if not _PLAIN_INT.fullmatch(raw):
        raise ValueError(f"{text!r} is not a whole number of shares; write it like 444")
    value = int(raw)
    if value <= 0:
        raise ValueError(f"{text!r} is not a positive number of shares; give 1 or more")
    if value > MAX_SHARES:
        raise ValueError(f"{text!r} is too many shares; give at most {MAX_SHARES:,}")
    return value


def parse_date(text: str | date) -> date:
    if not isinstance(text, str):
        return text
    raw = text.strip()
    if not _ISO_DATE.fullmatch(raw):
        raise ValueError(f"{text!r} is not a date; write it as YYYY-MM-DD, like 2003-05-14")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{text!r} is not a real calendar date; check the month and day") from None


def parse_rate(text: str | Decimal) -> Decimal:
    if not isinstance(text, str):
        return text
    raw = text.strip()
    if raw.endswith("%"):
        raw = raw[:-1].strip()
    value = parse_decimal(raw, "percent")
    if value > 100:
        raise ValueError(f"{text!r} is over 100%; give the rate in percent, like 8 or 8%")
    return value


def parse_investor(text: str) -> tuple[str, int]:
    if "=" not in text:
        raise ValueError(f'{text!r} is not NAME=SHARES; write it like "SCO Capital Partners=150"')
    name, _, shares = text.rpartition("=")
    name = name.strip()
    if not name:
        raise ValueError(f"{text!r} has an empty investor name; write NAME=SHARES")
    return name, parse_shares(shares)
