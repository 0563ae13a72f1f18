"""Shell completion from the ledger: series names, holders and references.

Each function is a typer `autocompletion` callback: given what has been typed so far, the
names the ledger holds that start with it (`Service.completions`). Completion must never fail
or write: a missing, unreadable or encrypted ledger without its key completes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import typer

from app.service import Completion, Service


def _target(ctx: typer.Context) -> str:
    """The ledger the command line names (`--db` typed before the command), else the
    environment's, else the default."""
    root = ctx.find_root()
    db = root.params.get("db") if root.params else None
    return str(db or os.environ.get("FINLEDGER_DB") or "finledger.db")


def _completer(kind: Completion) -> Callable[[typer.Context, str], list[str]]:
    def complete(ctx: typer.Context, incomplete: str) -> list[str]:
        ledger = Service(_target(ctx), key=os.environ.get("FINLEDGER_KEY") or None)
        return ledger.completions(kind, incomplete)

    return complete


series_names = _completer("series")
securities = _completer("securities")
holders = _completer("holders")
warrant_refs = _completer("warrants")
closing_refs = _completer("closings")
