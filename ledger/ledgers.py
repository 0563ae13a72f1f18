"""Many ledgers in one store: a ledger's name, its stream and its rows of the store's meta.

A store (one SQLite file, one PostgreSQL schema) holds any number of ledgers. Each is one
aggregate stream of its own (`ledger_id(name)`), so its positions, hash chain, snapshots and
optimistic race for the next position are its own; the read-model tables carry the ledger's
name in their key. The chain head of ledger `main` is kept under the meta keys every store
has always used (`head_position`, `head_hash`), so a store written before there were names
opens unchanged as ledger `main`; another ledger's head rows carry its name
(`ledger:NAME:head_position`). The store-wide rows (format version, encryption, key check)
are shared by every ledger of the store.
"""

from __future__ import annotations

import re
from uuid import UUID, uuid5

from ledger.errors import MalformedOption

DEFAULT = "main"
# The stream of ledger `main`: the one every store written before there were names holds.
MAIN_ID = uuid5(UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8"), "finledger")
MAX_LEDGER_NAME = 63
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_PREFIX = "ledger:"
HEAD_KEYS = ("head_position", "head_hash")


class MalformedLedgerName(MalformedOption):
    """`--ledger` / FINLEDGER_LEDGER is not a ledger name (the CLI exits 2)."""


def clean_ledger_name(value: str) -> str:
    """A ledger's name: lowercase letters, digits, and `.`, `_` or `-` after the first,
    at most 63 characters (it appears in file listings, URLs and scripts as it is typed)."""
    text = value.strip()
    if not text:
        raise MalformedLedgerName("--ledger is empty; give a ledger name such as main or acme-corp")
    if len(text) > MAX_LEDGER_NAME:
        raise MalformedLedgerName(
            f"ledger name {text[:20]!r}... is {len(text)} characters long; give at most "
            f"{MAX_LEDGER_NAME}")
    if not _NAME.fullmatch(text):
        raise MalformedLedgerName(
            f"ledger name {text!r} is not a plain name; use lowercase letters, digits and "
            ". _ - (starting with a letter or digit), such as acme-corp")
    return text


def ledger_id(name: str) -> UUID:
    """The originator id of the ledger's stream (`main`'s is the one it always was)."""
    return MAIN_ID if name == DEFAULT else uuid5(MAIN_ID, name)


def meta_key(name: str, key: str) -> str:
    """The store's meta key under which ledger `name` keeps its own `key` (its head)."""
    return key if name == DEFAULT else f"{_PREFIX}{name}:{key}"


def own_meta(meta: dict[str, str], name: str) -> dict[str, str]:
    """The store's meta as ledger `name` sees it: the store-wide rows and its own head, under
    the keys `main` has always used."""
    seen = {k: v for k, v in meta.items() if not k.startswith(_PREFIX) and k not in HEAD_KEYS}
    for key in HEAD_KEYS:
        found = meta.get(meta_key(name, key))
        if found is not None:
            seen[key] = found
    return seen


def head_rows(name: str, head: tuple[int, str]) -> list[tuple[str, str]]:
    """The meta rows that record ledger `name`'s chain head (written with its events)."""
    return [(meta_key(name, "head_position"), str(head[0])), (meta_key(name, "head_hash"), head[1])]


def names(meta: dict[str, str]) -> list[str]:
    """Every ledger the store's meta records a head for (`main` always: every store has it,
    empty or not), sorted."""
    found = {DEFAULT}
    for key in meta:
        if key.startswith(_PREFIX) and key.endswith(":head_position"):
            found.add(key[len(_PREFIX):-len(":head_position")])
    return sorted(found)


def has_head(meta: dict[str, str], name: str) -> bool:
    return name == DEFAULT or meta_key(name, "head_position") in meta
