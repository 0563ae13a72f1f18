"""The ownership cap (DOMAIN.md 16): a conversion or exercise is refused if afterwards its
holder would own more than the cap's percent of the common outstanding (as fully diluted
counts it, after the command). The refusal names how many shares would fit under it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ledger.calc import EXACT
from ledger.errors import InvariantViolation
from ledger.state import LedgerState


def holder_common(state: LedgerState, holder: str, holder_owns: int | None) -> int:
    """The holder's common before the command: what it states it holds, else what the
    ledger issued to it (it does not see sales)."""
    return holder_owns if holder_owns is not None else state.holder_common.get(holder, 0)


def check_cap(state: LedgerState, *, cap: Decimal | None, holder: str,
              holder_owns: int | None, on: date, shares: int,
              common_for: Callable[[int], int], what: str) -> None:
    """Refuse `what` (the command in words: "converting 100 shares of 'Series D'") of
    `shares`, giving `common_for(shares)` common, when it would put `holder` over `cap`
    percent; the message names the most shares that fit."""
    if cap is None:
        return
    owns = holder_common(state, holder, holder_owns)
    outstanding = state.common_outstanding(on)

    def fits(n: int) -> bool:
        common = common_for(n)
        return (owns + common) * 100 <= cap * (outstanding + common)

    if fits(shares):
        return
    low, high = 0, shares  # fits(low) or low == 0; not fits(high)
    if not fits(0):
        most = 0
    else:
        while high - low > 1:
            middle = (low + high) // 2
            if fits(middle):
                low = middle
            else:
                high = middle
        most = low
    common = common_for(shares)
    after = owns + common
    total = outstanding + common
    share = EXACT.divide(Decimal(after * 100), Decimal(total)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP) if total else Decimal(100)
    fit = f"at most {most:,} shares fit under it" if most else "no shares fit under it"
    raise InvariantViolation(
        f"{what} would leave {holder!r} owning {after:,} of {total:,} "
        f"common shares outstanding on {on} ({share}%), over its {cap}% ownership cap; {fit} "
        f"(its common counted {owns:,}; state it with --holder-owns N)"
    )
