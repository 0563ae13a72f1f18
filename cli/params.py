"""Parsers for command-line values: a malformed value is a usage error (exit 2).

Money and prices are plain decimals (`10000`, `2.35`); thousands separators, exponents,
NaN and Infinity are refused. Dates are `YYYY-MM-DD`. Rates are percent (`8` or `8%`).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

_PLAIN_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_PLAIN_INT = re.compile(r"^[+-]?\d+$")


def parse_decimal(text: str | Decimal, what: str = "value") -> Decimal:
    if not isinstance(text, str):
        return text
    raw = text.strip()
    if not _PLAIN_DECIMAL.match(raw):
        hint = raw.replace(",", "") if "," in raw else "10000 or 2.35"
        raise ValueError(f"{text!r} is not a plain decimal {what}; write it like {hint}")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal; write it like 2.35") from None
    if value.is_signed() and value != 0:
        raise ValueError(f"{text!r} is negative; give a positive amount")
    return value


def parse_shares(text: str | int) -> int:
    if not isinstance(text, str):
        return text
    raw = text.strip()
    if not _PLAIN_INT.match(raw):
        raise ValueError(f"{text!r} is not a whole number of shares; write it like 444")
    value = int(raw)
    if value <= 0:
        raise ValueError(f"{text!r} is not a positive number of shares; give 1 or more")
    return value


def parse_date(text: str | date) -> date:
    if not isinstance(text, str):
        return text
    raw = text.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", raw):
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
