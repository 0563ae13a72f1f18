"""The lines a recording prints, after its success line, for the terms it changed
(DOMAIN.md 12-14): anti-dilution adjustments, a split's new prices and shares, a hand-made
adjustment."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.events import LedgerEvent


def outcome_lines(event: LedgerEvent) -> list[str]:
    """The terms `event` changed, a line each, as its success line's continuation."""
    from app.events import ClosingCompleted, StockSplit, TermsAdjusted

    lines: list[str] = []
    if isinstance(event, ClosingCompleted):
        for a in event.adjustments:
            line = f"  anti-dilution ({a.method}): {a.instrument} {a.name} " + (
                "conversion" if a.instrument == "series" else "exercise") + \
                f" price {a.old_price} -> {a.new_price}"
            if a.old_shares is not None and a.new_shares is not None:
                line += f", shares {a.old_shares:,} -> {a.new_shares:,}"
            if a.a is not None:
                line += f" (A = {a.a:,}, B = {a.b}, C = {a.c:,})"
            lines.append(line)
    elif isinstance(event, StockSplit):
        lines.append(f"  split {event.new}-for-{event.old}: common outstanding "
                     f"{event.common_before:,} -> {event.common_after:,} (the new baseline)")
        lines.extend(f"  series {c.series} conversion price {c.old_price} -> {c.new_price}"
                     for c in event.series)
        lines.extend(f"  warrant {w.warrant} exercise price {w.old_price} -> {w.new_price}, "
                     f"shares {w.old_shares:,} -> {w.new_shares:,}" for w in event.warrants)
    elif isinstance(event, TermsAdjusted):
        if event.series is not None:
            lines.append(f"  series {event.series} conversion price "
                         f"{event.old_price} -> {event.new_price}")
        else:
            line = f"  warrant {event.warrant} exercise price {event.old_price} -> {event.new_price}"
            if event.old_shares is not None and event.new_shares is not None:
                line += f", shares {event.old_shares:,} -> {event.new_shares:,}"
            lines.append(line)
    return lines
