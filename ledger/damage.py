"""Damaged ledgers: where the bytes are damaged, and the one line a command says about it.

A SQLite ledger file can be damaged underneath the program (random bytes written into it, a
bad disk, a copy cut short). SQLite's own check (`PRAGMA quick_check`, table by table) names
the damaged tables; the hash chain names a damaged event. `audit verify` reports both; every
other command that meets damage says in one line that the ledger is damaged and what to run:
`audit verify`, and `report rebuild` when only the read model's tables (`rm_*`, a cache of
what the events say) are damaged.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from urllib.parse import quote

from ledger.location import Target, is_sqlite_ledger_file, no_space_beside, read_only_place

READ_MODEL_PREFIX = "rm_"
SCHEMA = "sqlite_master"


@dataclass(frozen=True)
class Damage:
    """A table (or the file's schema) whose bytes SQLite cannot read as written; `position`
    names the event when the damage is inside one stored event's row."""

    table: str
    detail: str
    position: int | None = None

    def describe(self) -> str:
        return f"table {self.table} is damaged: {self.detail}"

    @property
    def read_model_only(self) -> bool:
        return self.table.startswith(READ_MODEL_PREFIX)


def _detail(text: str) -> str:
    lines = [line for line in str(text).splitlines() if not line.startswith("***")]
    return "; ".join(lines[:2])[:200] or str(text)[:200]


def sqlite_damage(path: str) -> list[Damage]:
    """What SQLite finds damaged in the file at `path`, table by table (empty when sound)."""
    if not os.path.isfile(path) or not is_sqlite_ledger_file(path):
        return []  # not a SQLite file at all: opening it says so
    if read_only_place(path) or no_space_beside(path):
        return []  # SQLite cannot even open it there: nothing can be told about its bytes
    try:
        con = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return [Damage(SCHEMA, str(exc))]
    con.text_factory = lambda raw: raw.decode("utf-8", "replace")
    try:
        try:
            tables = [row[0] for row in con.execute(
                f"SELECT name FROM {SCHEMA} WHERE type = 'table'")]
        except sqlite3.OperationalError as exc:
            if _transient(exc):
                return []  # a writer holds it, or it cannot be opened: nothing can be told
            return [Damage(SCHEMA, str(exc))]
        except sqlite3.DatabaseError as exc:
            return [Damage(SCHEMA, str(exc))]
        except UnicodeDecodeError:  # SQLite's message quotes the damaged schema text
            return [Damage(SCHEMA, "the schema cannot be read (bytes that are not text)")]
        found = []
        try:
            for name, sql in con.execute(
                    f"SELECT CAST(name AS BLOB), CAST(sql AS BLOB) FROM {SCHEMA}"):
                bytes(name or b"").decode("utf-8")
                bytes(sql or b"").decode("utf-8")
        except UnicodeDecodeError:
            found.append(Damage(SCHEMA, "the schema holds bytes that are not text"))
        for table in tables:
            try:
                result = [row[0] for row in con.execute(
                    f"PRAGMA quick_check([{table.replace(']', ']]')}])")]
            except sqlite3.OperationalError as exc:
                if _transient(exc):
                    continue
                found.append(Damage(table, str(exc)))
                continue
            except sqlite3.DatabaseError as exc:
                found.append(Damage(table, str(exc)))
                continue
            except UnicodeDecodeError:
                found.append(Damage(table, "SQLite reports bytes that are not text"))
                continue
            if result != ["ok"]:
                found.append(Damage(table, _detail("\n".join(result))))
        return found
    finally:
        con.close()


def _transient(exc: sqlite3.OperationalError) -> bool:
    """A failure that says nothing about the bytes (a busy file, one that cannot be opened)."""
    return any(word in str(exc) for word in ("locked", "busy", "unable to open"))


def text_damage(path: str) -> list[Damage]:
    """Rows whose text columns hold bytes that are not UTF-8 (SQLite's structure is sound,
    but a program cannot read them); a stored event's row is named by its position."""
    try:
        con = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return []
    found: list[Damage] = []
    try:
        tables = [row[0] for row in con.execute(
            f"SELECT name FROM {SCHEMA} WHERE type = 'table'")]
        for table in tables:
            quoted = table.replace("]", "]]")
            columns = [row[1] for row in con.execute(f"PRAGMA table_info([{quoted}])")
                       if str(row[2]).upper() == "TEXT"]
            if not columns:
                continue
            keyed = table == "stored_events"
            selected = ", ".join(f"CAST([{c}] AS BLOB)" for c in columns)
            if keyed:
                selected = f"originator_version, {selected}"
            for row in con.execute(f"SELECT {selected} FROM [{quoted}]"):
                values = row[1:] if keyed else row
                for column, value in zip(columns, values, strict=True):
                    if isinstance(value, bytes):
                        try:
                            value.decode("utf-8")
                        except UnicodeDecodeError:
                            position = row[0] if keyed and isinstance(row[0], int) else None
                            at = f" of the event at position {position}" if position else ""
                            found.append(Damage(table, f"column {column}{at} holds bytes that "
                                                       "are not text", position))
                            break
                if len(found) >= 20:
                    return found
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        found.append(Damage(SCHEMA, f"cannot be scanned ({type(exc).__name__})"))
    finally:
        con.close()
    return found


def damage_line(display: str, damage: list[Damage], position: int | None = None,
                problem: str = "") -> str:
    """The one line a command (other than `audit verify`) prints about a damaged ledger."""
    if damage and all(d.read_model_only for d in damage):
        names = ", ".join(sorted({d.table for d in damage}))
        return (f"the ledger at {display} is damaged, in the reports' tables only ({names}); "
                "its events are intact: run `finledger report rebuild`, then "
                "`finledger audit verify`")
    positions = sorted({d.position for d in damage if d.position is not None})
    if positions:
        where = f"at position {positions[0]} (table stored_events)"
    elif damage:
        names = ", ".join(sorted({d.table for d in damage}))
        where = f"in table(s) {names}"
    elif position is not None:
        where = f"at position {position}" + (f" ({problem})" if problem else "")
    else:
        where = f"({problem})" if problem else ""
    return (f"the ledger at {display} is damaged {where}; run `finledger audit verify` to see "
            "where, and restore it from a backup or an export").replace("  ", " ")


def file_damage_line(target: Target) -> str | None:
    """The one line about a SQLite ledger file whose bytes are damaged; None when SQLite
    finds them sound (or the ledger is not a SQLite file)."""
    if target.kind != "sqlite" or not target.exists():
        return None
    damage = sqlite_damage(target.path) or text_damage(target.path)
    return damage_line(target.display(), damage) if damage else None


def diagnose(target: str, key: str | None) -> str | None:
    """Why a command that failed unexpectedly failed, when the cause is a damaged ledger:
    the line to print; None when the ledger is sound (the failure is then a bug)."""
    try:
        parsed = Target.parse(target)
    except Exception:
        return None
    if parsed.kind == "sqlite":
        try:
            if not parsed.exists():
                return None
        except OSError:
            return None
        line = file_damage_line(parsed)
        if line is not None:
            return line
    return _chain_damage(target, key, parsed.display())


def _chain_damage(target: str, key: str | None, display: str) -> str | None:
    """A chain check over every stored event: the first damaged one, if any."""
    from ledger import audit
    from ledger.service import Ledger
    from ledger.store import LEDGER_ID

    try:
        with Ledger(target, key=key) as book:
            meta = book.meta()
            result = audit.check_store(book.open(), LEDGER_ID, meta)
    except Exception:  # nothing proven damaged: the original failure stands
        return None
    if not result.problems:
        return None
    first = min(result.problems, key=lambda p: p.position)
    return damage_line(display, [], first.position, first.problem)
