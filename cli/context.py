"""What the top-level options establish for every command: which ledger, who is recording."""

from __future__ import annotations

import os
from dataclasses import dataclass

import typer

from ledger.service import Ledger


@dataclass
class Settings:
    db: str
    actor: str | None


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    obj = root.obj
    if isinstance(obj, Settings):
        return obj
    return Settings(db=os.environ.get("FINLEDGER_DB") or "finledger.db", actor=None)


def ledger(ctx: typer.Context, *, create: bool = False) -> Ledger:
    s = settings(ctx)
    return Ledger(s.db, actor=s.actor, key=os.environ.get("FINLEDGER_KEY") or None, create=create)
