"""Input rules: what a value given to the ledger may be, checked once for every way in (the
command line, an import file, a test calling the service).

Text from a user is checked here and nowhere else: names and free text (trimmed, NFC, no
control or invisible characters), whole shares, decimals (money, prices, rates: plain digits,
bounded, a bounded number of decimal places) and dates. The bounds themselves live in
`ledger.calc` beside the computations they keep exact. Every refusal is an `InvalidInput`
whose message says what is wrong and what would be right.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from ledger.calc import MAX_MONEY, MAX_PLACES, MAX_RATE, MAX_SHARES
from ledger.errors import InvalidInput

MAX_NAME = 200

# Characters a name may not contain: controls (C0, DEL, C1), lone surrogates (undecodable
# command-line bytes), unassigned and private-use code points, line and paragraph separators,
# and invisible format characters (category Cf: zero-width space, word joiner, byte-order
# mark, soft hyphen, the bidirectional embeddings, overrides and isolates...), which make one
# name print exactly as another. Right-to-left letters themselves are fine, and so are the
# few format characters that scripts need where they have a visible effect (see _needed).
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Cn", "Co", "Zl", "Zp", "Cf"})
_JOINERS = frozenset({"\u200c", "\u200d"})  # ZWNJ, ZWJ: inside a word (Persian, Indic, emoji)
_DIRECTION_MARKS = frozenset({"\u200e", "\u200f", "\u061c"})  # LRM, RLM, ALM: beside RTL text
_RTL_CLASSES = frozenset({"R", "AL", "AN"})


def _visible(ch: str) -> bool:
    return unicodedata.category(ch)[0] not in "ZC"


def _needed(text: str, at: int) -> bool:
    """A joiner between two visible characters, or a direction mark beside right-to-left
    text, changes how the name displays; anywhere else it is invisible and refused."""
    ch = text[at]
    before = text[at - 1] if at > 0 else ""
    after = text[at + 1] if at + 1 < len(text) else ""
    if ch in _JOINERS:
        return bool(before and after) and _visible(before) and _visible(after)
    if ch in _DIRECTION_MARKS:
        return any(c and unicodedata.bidirectional(c) in _RTL_CLASSES for c in (before, after))
    return False


def clean_text(value: str, what: str, *, allow_empty: bool = False, noun: str = "name") -> str:
    """Trim a free-text value and compose it (NFC, so that one name has one spelling);
    refuse control and invisible characters, and invisible-only text (`noun` is what the
    refusal asks for: a name, a reason)."""
    text = value.strip()
    if text and text.isascii() and text.isprintable():
        # Plain printable ASCII holds no control, invisible or bidi character, is already
        # NFC and, stripped and not empty, starts with a visible one: only the length is left.
        if len(text) > MAX_NAME:
            raise InvalidInput(f"{what} is {len(text)} characters long; keep it to {MAX_NAME}")
        return text
    text = unicodedata.normalize("NFC", text)
    if not any(_visible(ch) for ch in text) and not (allow_empty and not text):
        raise InvalidInput(f"{what} is empty; give a {noun} with at least one visible character")
    for at, ch in enumerate(text):
        if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES and not _needed(text, at):
            raise InvalidInput(
                f"{what} contains the control or invisible character U+{ord(ch):04X} "
                f"({unicodedata.name(ch, 'unnamed')}); remove it and give plain text"
            )
    if len(text) > MAX_NAME:
        raise InvalidInput(f"{what} is {len(text)} characters long; keep it to {MAX_NAME}")
    return text


def clean_name(value: str, what: str) -> str:
    """Trim a name; refuse empty ones, control characters and invisible-only names."""
    return clean_text(value, what)


# --- numbers ---------------------------------------------------------------------------------


def positive_shares(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(f"{what} must be a whole positive number of shares, not {value!r}")
    if value > MAX_SHARES:
        raise InvalidInput(f"{what} {value:,} is too large; give at most {MAX_SHARES:,} shares")
    return value


def positive_money(
    value: Decimal, what: str, *, allow_zero: bool = False, shown: str | None = None
) -> Decimal:
    """Money, a price or a rate: finite, positive (or zero), below MAX_MONEY, at most
    MAX_PLACES decimal places. `shown` names the value in a message (default: `what` and
    the value)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidInput(f"{what} must be a finite decimal such as 2.35, not {value!r}")
    subject = shown or f"{what} {plain(value)}"
    if value < 0 or (value == 0 and not allow_zero) or value.is_signed():
        floor = "zero or more" if allow_zero else "more than zero"
        raise InvalidInput(f"{what} must be {floor}, not {plain(value)}")
    if value >= MAX_MONEY:
        raise InvalidInput(f"{subject} is too large; give less than {MAX_MONEY:,.0f}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        raise InvalidInput(f"{subject} is in exponent form; give its digits, like {plain(value)}")
    places = decimal_places(value)
    if places > MAX_PLACES:
        rounded = value.quantize(Decimal(1).scaleb(-MAX_PLACES)).normalize()
        raise InvalidInput(
            f"{subject} has {places} decimal places; give at most {MAX_PLACES} "
            f"(like {plain(rounded)})"
        )
    return value


def rate_percent(value: Decimal, what: str, *, shown: str | None = None) -> Decimal:
    """A rate in percent: a decimal from 0 to 100 (the money rules for its digits)."""
    positive_money(value, what, allow_zero=True, shown=shown)
    if value > MAX_RATE:
        raise InvalidInput(
            f"{shown or f'{what} {plain(value)}%'} is over {MAX_RATE}%; give the rate in "
            "percent, like 8 or 8%"
        )
    return value


def decimal_places(value: Decimal) -> int:
    """Digits after the point that matter (trailing zeros do not: 2.3500 has 2; but zero
    keeps the places it is written with, so that 0E-8 is not taken for a plain 0)."""
    exponent = (value if value.is_zero() else value.normalize()).as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def plain(value: Decimal) -> str:
    """A decimal as plain digits, never in exponent form (1E-10 is 0.0000000001)."""
    return format(value, "f")


# --- text to values (what the command line and import files give) ----------------------------

# ASCII digits only: Python's \d and Decimal() also accept other scripts' digits ("٤٤٤").
_PLAIN_DECIMAL = re.compile(r"\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_PLAIN_INT = re.compile(r"\+?[0-9]+", re.ASCII)
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_MONTHS = tuple(calendar.month_name)


def decimal_text(text: str, what: str = "value") -> Decimal:
    """A plain decimal such as 10000 or 2.35 (money or a price), within the money rules."""
    raw = text.strip()
    if raw.startswith("-"):
        raise InvalidInput(f"{text!r} is negative; give a positive {what}, like 2.35")
    if not _PLAIN_DECIMAL.fullmatch(raw):
        raise InvalidInput(f"{text!r} is not a plain decimal {what}: {_why_not_decimal(raw)}")
    if len(raw) > 40:  # digits beyond any bound: say so without building a huge number
        raise InvalidInput(f"{text[:20]!r}... is too large; give less than {MAX_MONEY:,.0f}")
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        raise InvalidInput(f"{text!r} is not a decimal; write it like 2.35") from None
    return positive_money(value, what, allow_zero=True, shown=repr(text))


def _why_not_decimal(raw: str) -> str:
    if not raw:
        return "it is empty; write it like 10000 or 2.35"
    if "," in raw:
        return f"no thousands separators; write it like {raw.replace(',', '')}"
    if raw.lower().lstrip("+") in ("nan", "inf", "infinity", "snan"):
        return "it must be a finite number; write it like 10000 or 2.35"
    if re.fullmatch(r"\+?[0-9.]+[eE][-+]?[0-9]+", raw, re.ASCII):
        return "no exponents; write every digit, like 10000 or 0.0001"
    if any(ch.isdigit() and not ch.isascii() for ch in raw):
        return "only the digits 0-9; write it like 10000 or 2.35"
    return "only digits and one decimal point; write it like 10000 or 2.35"


def shares_text(text: str, what: str = "shares") -> int:
    """A whole positive number of shares such as 444."""
    raw = text.strip()
    if raw.startswith("-"):
        raise InvalidInput(f"{text!r} is negative; give a positive number of {what}, like 444")
    if not _PLAIN_INT.fullmatch(raw):
        if _PLAIN_DECIMAL.fullmatch(raw):
            why = "shares are whole; give no fraction"
        elif any(ch.isdigit() and not ch.isascii() for ch in raw):
            why = "only the digits 0-9"
        elif not raw:
            why = "it is empty"
        else:
            why = "only digits, no separators or exponents"
        raise InvalidInput(f"{text!r} is not a whole number of {what}: {why}; write it like 444")
    if len(raw) > 30:
        raise InvalidInput(f"{text[:20]!r}... is too many {what}; give at most {MAX_SHARES:,}")
    value = int(raw)
    if value <= 0:
        raise InvalidInput(f"{text!r} is not a positive number of {what}; give 1 or more")
    if value > MAX_SHARES:
        raise InvalidInput(f"{text!r} is too many {what}; give at most {MAX_SHARES:,}")
    return value


def rate_text(text: str) -> Decimal:
    """A rate in percent: `8` or `8%`."""
    raw = text.strip()
    if raw.endswith("%"):
        raw = raw[:-1].strip()
    return rate_percent(decimal_text(raw, "percent"), "rate", shown=repr(text))


def date_text(text: str) -> date:
    """A date YYYY-MM-DD; a malformed one is refused saying which part is wrong."""
    raw = text.strip()
    match = _ISO_DATE.fullmatch(raw)
    if match is None:
        raise InvalidInput(f"{text!r} is not a date; write it as YYYY-MM-DD, like 2003-05-14")
    year, month, day = (int(part) for part in match.groups())
    if year < 1:
        raise InvalidInput(f"{text!r} is not a date: there is no year 0000; years start at 0001")
    if not 1 <= month <= 12:
        raise InvalidInput(
            f"{text!r} is not a date: there is no month {month:02d}; months run from 01 to 12"
        )
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        if month == 2 and day == 29:
            why = f"there is no February 29 in {year} (not a leap year); the last day is {raw[:8]}28"
        else:
            why = (f"there is no {_MONTHS[month]} {day} in {year}; {_MONTHS[month]} runs from "
                   f"{raw[:8]}01 to {raw[:8]}{last:02d}")
        raise InvalidInput(f"{text!r} is not a date: {why}")
    return date(year, month, day)


def investor_text(text: str) -> tuple[str, int]:
    """`NAME=SHARES`, split at the last `=`."""
    if "=" not in text:
        raise InvalidInput(
            f'{text!r} is not NAME=SHARES; write it like "SCO Capital Partners=150"'
        )
    name, _, shares = text.rpartition("=")
    if not name.strip():
        raise InvalidInput(f"{text!r} has an empty investor name; write NAME=SHARES")
    return name.strip(), shares_text(shares)
