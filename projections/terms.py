"""`report terms`: the conversion and exercise prices in force as of a date, and how each
came about (DOMAIN.md 12-14): designated or issued, then every split, anti-dilution
adjustment and adjustment by hand, in timeline order. Pure: it reads the books."""

from __future__ import annotations

from datetime import date

from projections.books import Books, TermsRow
from projections.reports import Report, warrant_outstanding


def terms(books: Books, on: date) -> Report:
    force = books.in_force()
    changes: dict[tuple[str, str], list[TermsRow]] = {}
    for row in sorted(books.terms.values(), key=lambda r: (r.date, r.position)):
        changes.setdefault((row.instrument, row.name), []).append(row)

    def history(instrument: str, name: str, first: Report) -> list[Report]:
        return [first, *({
            "effective_date": row.date, "position": row.position, "price": row.price,
            "cause": row.cause,
            **({"adjusted": row.adjusted} if instrument == "warrant" else {}),
        } for row in changes.get((instrument, name), ()))]

    series = [{
        "series": s.series,
        "conversion_price": force.conversion_price(s),
        "anti_dilution": s.anti_dilution,
        "price_floor": s.price_floor,
        "history": history("series", s.series, {
            "effective_date": s.designated_on, "position": s.position,
            "price": s.conversion_price, "cause": "designated"}),
    } for s in sorted(books.series.values(), key=lambda s: (s.designated_on, s.position))]
    warrants = [{
        "ref": w.ref,
        "holder": w.holder,
        "exercise_price": force.exercise_price(w),
        "outstanding": warrant_outstanding(w, on, force),
        "adjusted": force.adjusted_shares(w),
        "anti_dilution": w.anti_dilution,
        "price_floor": w.price_floor,
        "history": history("warrant", w.ref, {
            "effective_date": w.issued_on, "position": w.position,
            "price": w.exercise_price, "cause": "issued", "adjusted": 0}),
    } for w in sorted(books.warrants.values(), key=lambda w: (w.issued_on, w.position))]
    return {"as_of": on, "series": series, "warrants": warrants}
