"""Where a ledger lives, and what can be told about a SQLite ledger file without opening the
event store (no eventsourcing import: `report summary` reads a current read model through
this alone, so that a small ledger answers in a fraction of a second)."""

from __future__ import annotations

import dataclasses
import os
import re
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from ledger.errors import StoreError

FORMAT_VERSION = 1
META_TABLE = "finledger_meta"


@dataclasses.dataclass(frozen=True)
class Target:
    """Where a ledger lives: a SQLite file or a PostgreSQL database."""

    kind: str  # "sqlite" | "postgres"
    path: str = ""
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = ""

    @classmethod
    def parse(cls, target: str) -> Target:
        if re.match(r"^postgres(ql)?://", target):
            parts = urlsplit(target)
            if not parts.hostname or not parts.path.strip("/"):
                raise StoreError(
                    "a PostgreSQL target looks like postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME"
                )
            try:
                port = str(parts.port or 5432)
            except ValueError:
                raise StoreError("the port in the PostgreSQL URL is not a number") from None
            return cls(
                kind="postgres",
                host=parts.hostname,
                port=port,
                user=unquote(parts.username or "postgres"),
                password=unquote(parts.password or ""),
                dbname=unquote(parts.path.strip("/")),
                schema=_schema_option(parts.query),
            )
        if "://" in target:
            raise StoreError(
                f"unsupported store {redact(target)!r}; give a SQLite file path or a "
                "postgresql:// URL"
            )
        return cls(kind="sqlite", path=target)

    def display(self) -> str:
        if self.kind == "sqlite":
            return self.path
        schema = f"?schema={self.schema}" if self.schema else ""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}{schema}"

    def exists(self) -> bool:
        if self.kind == "sqlite":
            return Path(self.path).exists()
        from ledger.postgres import ledger_exists

        return ledger_exists(self)


def _schema_option(query: str) -> str:
    """`?schema=NAME` puts the ledger's tables in that PostgreSQL schema (default public)."""
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - {"schema"})
    if unknown:
        raise StoreError(
            f"unknown option {unknown[0]!r} in the PostgreSQL URL; the only option is ?schema=NAME"
        )
    schema = options.get("schema", [""])[-1]
    if schema and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        raise StoreError(
            f"schema {schema!r} is not a plain name; use lowercase letters, digits and _"
        )
    return schema


def redact(text: str) -> str:
    """Hide the password of any URL in the text."""
    return re.sub(r"(://[^:/@\s]+):[^@\s]*@", r"\1:***@", text)


def create_private_file(path: str) -> None:
    """Create the SQLite file readable by its owner only (0600), before SQLite opens it."""
    parent = Path(path).parent
    if not parent.exists():
        raise StoreError(f"folder {str(parent)!r} does not exist; create it or choose another --db")
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)




def is_sqlite_ledger_file(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            header = fh.read(16)
    except OSError:
        return False
    return header in (b"", b"SQLite format 3\x00")


def check_sqlite_file(path: str) -> None:
    if not is_sqlite_ledger_file(path):
        raise StoreError(f"{path!r} is not a finledger ledger (not a SQLite database file)")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path!r} cannot be read as a ledger: {exc}") from None
    if tables and META_TABLE not in tables:
        # Another program's database: adding a ledger's tables to it would be a surprise.
        raise StoreError(
            f"{path!r} is a SQLite database but not a finledger ledger (no {META_TABLE} "
            "table); point --db / FINLEDGER_DB at a ledger or a new file"
        )


def plain_head(conn: sqlite3.Connection) -> int | None:
    """The head position of a plain (unencrypted) ledger of a format this program reads, read
    through `conn` (inside the caller's transaction); None when anything about the file calls
    for opening the store properly, with its checks and messages."""
    try:
        meta = dict(conn.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())
    except sqlite3.DatabaseError:
        return None
    version, head = meta.get("format_version", ""), meta.get("head_position", "")
    if meta.get("encrypted") != "0" or not version.isdigit() or int(version) > FORMAT_VERSION:
        return None
    return int(head) if head.isdigit() else None
