"""Parsers for command-line values: a malformed value is a usage error (exit 2) whose message
keeps the reason `ledger.inputs` gives (what is wrong, and what would be right).

Money and prices are plain decimals (`10000`, `2.35`); thousands separators, exponents,
NaN and Infinity are refused. Dates are `YYYY-MM-DD`. Rates are percent (`8` or `8%`).
The rules themselves, and the limits, are `ledger.inputs`: the same for an import file (each
parser loads them when a value is given, not a command that is given none).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TypeVar

import typer

from app.errors import InvalidInput

T = TypeVar("T")


def _usage(rule: Callable[[str], T], text: str) -> T:
    """click keeps only the value when a parser raises ValueError; a BadParameter keeps the
    reason (and click adds which option it was)."""
    try:
        return rule(text)
    except InvalidInput as exc:
        raise typer.BadParameter(str(exc)) from None


def parse_decimal(text: str | Decimal) -> Decimal:
    from app.inputs import decimal_text

    return text if isinstance(text, Decimal) else _usage(decimal_text, text)


def parse_signed_decimal(text: str | Decimal) -> Decimal:
    """A plain decimal that may be negative (`-250000` for a loss)."""
    if not isinstance(text, str):
        return text
    raw = text.strip()
    if raw.startswith("-"):
        value = parse_decimal(raw[1:])
        return -value if value else value
    return parse_decimal(raw)


def parse_shares(text: str | int) -> int:
    from app.inputs import shares_text

    return text if isinstance(text, int) else _usage(shares_text, text)


def parse_date(text: str | date) -> date:
    from app.inputs import date_text

    return text if isinstance(text, date) else _usage(date_text, text)


def parse_rate(text: str | Decimal) -> Decimal:
    from app.inputs import rate_text

    return text if isinstance(text, Decimal) else _usage(rate_text, text)


def parse_investor(text: str) -> tuple[str, int]:
    from app.inputs import investor_text

    return _usage(investor_text, text)
