"""What the top-level options establish for every command: which ledger, who is recording."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # the ledger (and eventsourcing) load only when a command needs them
    from collections.abc import Sequence

    from events import LedgerEvent
    from ledger.service import Ledger


@dataclass
class Settings:
    db: str
    actor: str | None


def today() -> date:
    """The day reports and warnings judge "today" by (UTC, like the recorded times)."""
    return datetime.now(UTC).date()


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    obj = root.obj
    if isinstance(obj, Settings):
        return obj
    return Settings(db=os.environ.get("FINLEDGER_DB") or "finledger.db", actor=None)


def ledger(ctx: typer.Context, *, create: bool = False) -> Ledger:
    from ledger.service import Ledger

    s = settings(ctx)
    return Ledger(s.db, actor=s.actor, key=os.environ.get("FINLEDGER_KEY") or None, create=create)


def plain_path(ctx: typer.Context) -> str | None:
    """The ledger's file when it is a SQLite path and no key is set (what a read model can
    be read from without opening the store); None for a PostgreSQL URL or a keyed ledger."""
    db = settings(ctx).db
    return None if "://" in db or os.environ.get("FINLEDGER_KEY") else db


def after_write(book: Ledger, recorded: Sequence[LedgerEvent] = ()) -> None:
    """Bring the materialized reports up to the event just recorded (a busy table is caught
    up by the next read instead; the event itself is already durable)."""
    from projections.readmodel import catch_up

    catch_up(book, recorded)
