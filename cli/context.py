"""What the top-level options establish for every command: which ledger, who is recording,
and the service (`app.service.Service`) that each command makes its one call to."""

from __future__ import annotations

import os
from dataclasses import dataclass

import typer

from app.books import today
from app.service import Service

__all__ = ["Settings", "damaged", "forget", "service", "settings", "today"]


@dataclass
class Settings:
    db: str
    actor: str | None
    ledger: str = "main"


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


def service(ctx: typer.Context) -> Service:
    """The service for the ledger the command line names (warnings on stderr)."""
    from cli.console import warn_line

    s = settings(ctx)
    return Service(s.db, actor=s.actor, key=os.environ.get("FINLEDGER_KEY") or None,
                   ledger=s.ledger, warn=warn_line)


def forget() -> None:
    """A new command starts: no ledger used yet."""
    _USED.clear()


def damaged() -> str | None:
    """When a command failed unexpectedly: the one line saying the ledger it used is damaged,
    or None when it is not (the failure is a bug, and keeps its traceback)."""
    if not _USED:
        return None
    used = _USED[-1]
    return Service(used.db, key=os.environ.get("FINLEDGER_KEY") or None,
                   ledger=used.ledger).diagnose()
