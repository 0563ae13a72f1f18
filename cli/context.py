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
    ledger: str = "main"


def today() -> date:
    """The day reports and warnings judge "today" by (UTC, like the recorded times)."""
    return datetime.now(UTC).date()


# The settings of the ledger this command used (what a failure is diagnosed against).
_USED: list[Settings] = []


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, Settings):
        obj = Settings(db=os.environ.get("FINLEDGER_DB") or "finledger.db", actor=None,
                       ledger=os.environ.get("FINLEDGER_LEDGER") or "main")
    _USED[:] = [obj]
    return obj


def forget() -> None:
    """A new command starts: no ledger used yet."""
    _USED.clear()


def damaged() -> str | None:
    """When a command failed unexpectedly: the one line saying the ledger it used is damaged
    (`ledger.damage`), or None when it is not (the failure is a bug, and keeps its traceback)."""
    if not _USED:
        return None
    from ledger.damage import diagnose

    db, key, name = _USED[-1].db, os.environ.get("FINLEDGER_KEY") or None, _USED[-1].ledger
    try:
        return diagnose(db, key) or _tables_damaged(db, key, name)
    except Exception:
        return None


def _tables_damaged(db: str, key: str | None, name: str) -> str | None:
    """The read model's tables against a fresh replay (what `audit verify` compares): the
    events are sound, but a report could not read its tables."""
    from ledger.damage import Damage, damage_line
    from ledger.service import Ledger
    from projections.check import check_tables

    with Ledger(db, key=key, ledger=name) as book:
        problems = check_tables(book, book.events())
        if not problems:
            return None
        return damage_line(book.target.display(), [Damage("rm_*", problems[0].problem)])


def ledger(ctx: typer.Context, *, create: bool = False) -> Ledger:
    from ledger.service import Ledger

    s = settings(ctx)
    book = Ledger(s.db, actor=s.actor, key=os.environ.get("FINLEDGER_KEY") or None,
                  create=create, ledger=s.ledger)
    if book.target.kind == "postgres":  # its read model moves with each event it appends
        from projections.readmodel import follower

        book.follow = follower(book)
    return book


def plain_path(ctx: typer.Context) -> tuple[str, str] | None:
    """The ledger's file and name when it is a SQLite path and no key is set (what a read
    model can be read from without opening the store); None for a PostgreSQL URL or a keyed
    ledger."""
    s = settings(ctx)
    return None if "://" in s.db or os.environ.get("FINLEDGER_KEY") else (s.db, s.ledger)


def after_write(book: Ledger, recorded: Sequence[LedgerEvent] = ()) -> None:
    """Bring the materialized reports up to the event just recorded (a busy table is caught
    up by the next read instead; the event itself is already durable).

    The command succeeded once its events were appended: should this later step fail, it
    says so on stderr and the command still exits 0 (exit non-zero always means nothing was
    appended); the next command catches the tables up, and `audit verify` shows the lag."""
    from projections.readmodel import catch_up

    try:
        catch_up(book, recorded)
    except Exception as exc:
        from cli.console import warn_line

        warn_line(
            f"recorded, but the reports' tables could not be brought up to date "
            f"({type(exc).__name__}: {exc}); the next command catches them up "
            "(`finledger report rebuild` rebuilds them)"
        )
