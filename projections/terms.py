"""`report terms`: the conversion and exercise prices in force as of a date, and how each
came about (DOMAIN.md 12-14): designated or issued, then every split, anti-dilution
adjustment and adjustment by hand, in timeline order. Pure: it reads the books."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from projections.books import Books, TermsRow
from projections.reports import OMITTED, warrant_outstanding


@dataclass(frozen=True, slots=True)
class TermsChange:
    """One step of a price's history; `adjusted` (the shares it added) for a warrant only."""

    effective_date: date
    position: int
    price: Decimal
    cause: str
    adjusted: int | None = field(metadata=OMITTED)


@dataclass(frozen=True, slots=True)
class TermsSeries:
    series: str
    conversion_price: Decimal
    anti_dilution: str
    price_floor: Decimal | None
    history: tuple[TermsChange, ...]


@dataclass(frozen=True, slots=True)
class TermsWarrant:
    ref: str
    holder: str
    exercise_price: Decimal
    outstanding: int
    adjusted: int
    anti_dilution: str
    price_floor: Decimal | None
    history: tuple[TermsChange, ...]


@dataclass(frozen=True, slots=True)
class TermsReport:
    as_of: date
    series: tuple[TermsSeries, ...]
    warrants: tuple[TermsWarrant, ...]


def terms(books: Books, on: date) -> TermsReport:
    force = books.in_force()
    changes: dict[tuple[str, str], list[TermsRow]] = {}
    for row in sorted(books.terms.values(), key=lambda r: (r.date, r.position)):
        changes.setdefault((row.instrument, row.name), []).append(row)

    def history(instrument: str, name: str, first: TermsChange) -> tuple[TermsChange, ...]:
        return (first, *(TermsChange(
            row.date, row.position, row.price, row.cause,
            row.adjusted if instrument == "warrant" else None,
        ) for row in changes.get((instrument, name), ())))

    series = tuple(TermsSeries(
        series=s.series,
        conversion_price=force.conversion_price(s),
        anti_dilution=s.anti_dilution,
        price_floor=s.price_floor,
        history=history("series", s.series, TermsChange(
            s.designated_on, s.position, s.conversion_price, "designated", None)),
    ) for s in sorted(books.series.values(), key=lambda s: (s.designated_on, s.position)))
    warrants = tuple(TermsWarrant(
        ref=w.ref,
        holder=w.holder,
        exercise_price=force.exercise_price(w),
        outstanding=warrant_outstanding(w, on, force),
        adjusted=force.adjusted_shares(w),
        anti_dilution=w.anti_dilution,
        price_floor=w.price_floor,
        history=history("warrant", w.ref, TermsChange(
            w.issued_on, w.position, w.exercise_price, "issued", 0)),
    ) for w in sorted(books.warrants.values(), key=lambda w: (w.issued_on, w.position)))
    return TermsReport(as_of=on, series=series, warrants=warrants)
