"""Shell completion from the ledger: series names, holders and references.

Each function is a typer `autocompletion` callback: given what has been typed so far, the
names the ledger holds that start with it. Completion must never fail or write: a missing,
unreadable or encrypted ledger without its key completes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from ledger.state import LedgerState


def _target(ctx: typer.Context) -> str:
    """The ledger the command line names (`--db` typed before the command), else the
    environment's, else the default."""
    root = ctx.find_root()
    db = root.params.get("db") if root.params else None
    return str(db or os.environ.get("FINLEDGER_DB") or "finledger.db")


def _state(ctx: typer.Context) -> LedgerState | None:
    from ledger.service import Ledger

    target = _target(ctx)
    try:
        book = Ledger(target, key=os.environ.get("FINLEDGER_KEY") or None, create=False)
        if not book.exists:
            return None
        with book:
            return book.current_state()
    except Exception:  # completion offers what it can; it never reports or fails
        return None


def _matching(names: Iterable[str], incomplete: str) -> list[str]:
    return sorted({n for n in names if n.startswith(incomplete)})


def _completer(names: Callable[[LedgerState], Iterable[str]], *extra: str
               ) -> Callable[[typer.Context, str], list[str]]:
    def complete(ctx: typer.Context, incomplete: str) -> list[str]:
        state = _state(ctx)
        found = list(names(state)) if state is not None else []
        return _matching([*found, *extra], incomplete)

    return complete


def _holders(state: LedgerState) -> Iterable[str]:
    for series in state.series.values():
        yield from series.holdings()


series_names = _completer(lambda state: state.series)
securities = _completer(lambda state: state.series, "common")
holders = _completer(_holders)
warrant_refs = _completer(lambda state: state.warrants)
closing_refs = _completer(lambda state: state.closings)
