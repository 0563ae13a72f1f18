"""Where a ledger lives, and what can be told about a SQLite ledger file without opening the
event store (no eventsourcing import: `report summary` reads a current read model through
this alone, so that a small ledger answers in a fraction of a second)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import secrets
import shutil
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ledger.errors import InvalidTarget, StoreError

FORMAT_VERSION = 2
"""The ledger format a new ledger is written in: 2 since its hash chain covers each event's
stored topic and class version (`ledger.chain`); a format-1 ledger keeps its own rule."""
SIDECARS = ("", "-wal", "-shm", "-journal")  # a SQLite file and the files SQLite keeps beside it
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
            try:
                parts = urlsplit(target)
                hostname = parts.hostname
            except ValueError as exc:  # e.g. an unclosed [IPv6] host
                raise InvalidTarget(
                    f"{redact(target)!r} is not a valid URL ({exc}); a PostgreSQL target looks "
                    "like postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME"
                ) from None
            if not hostname or not parts.path.strip("/"):
                raise StoreError(
                    "a PostgreSQL target looks like postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME"
                )
            try:
                port = str(parts.port or 5432)
            except ValueError:
                raise StoreError("the port in the PostgreSQL URL is not a number") from None
            return cls(
                kind="postgres",
                host=hostname,
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
        return cls(kind="sqlite", path=_sqlite_path(target))

    def display(self) -> str:
        if self.kind == "sqlite":
            return self.path
        schema = f"?schema={self.schema}" if self.schema else ""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}{schema}"

    def holds(self, path: str | os.PathLike[str]) -> bool:
        """Whether `path` is this SQLite ledger's file or one of its sidecars (-wal, -shm,
        -journal), by real path or by inode (a hard link, another spelling of the path)."""
        if self.kind != "sqlite":
            return False
        ledger = os.path.realpath(self.path)
        given = os.path.realpath(path)
        for suffix in SIDECARS:
            if given == ledger + suffix:
                return True
            with contextlib.suppress(OSError):
                if os.path.samefile(path, self.path + suffix):
                    return True
        return False

    def exists(self) -> bool:
        if self.kind == "sqlite":
            return Path(self.path).exists()
        from ledger.postgres import ledger_exists

        return ledger_exists(self)


def _sqlite_path(path: str) -> str:
    """A SQLite target must be a file that keeps what is written to it."""
    if not path.strip():
        raise InvalidTarget("--db is empty; give a ledger file path such as finledger.db")
    lowered = path.lower()
    if ":memory:" in lowered or "mode=memory" in lowered:
        raise InvalidTarget(
            f"{path!r} is an in-memory SQLite database, which keeps nothing after the command; "
            "give a file path such as finledger.db"
        )
    if lowered.startswith("file:"):
        raise InvalidTarget(
            f"{path!r} is a SQLite URI; give the ledger's plain file path, such as finledger.db"
        )
    if "\x00" in path:
        raise InvalidTarget("--db holds a NUL character; give a plain file path")
    for folder in Path(path).absolute().parents:  # the nearest one that exists
        if folder.exists():
            if not folder.is_dir():
                raise InvalidTarget(
                    f"{str(folder)!r} is a file, not a folder, so {path!r} cannot be created in "
                    "it; choose another --db"
                )
            break
    return path


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
    """Create an empty SQLite ledger file readable by its owner only (0600), atomically: it
    is built under a temporary name and linked into place, so that the path never holds a
    file that is not a ledger (an empty or half-written file is refused by every command),
    and of two processes creating it at once one wins and the other opens the winner's."""
    parent = Path(path).parent
    if not parent.exists():
        raise StoreError(f"folder {str(parent)!r} does not exist; create it or choose another --db")
    scratch = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.new"
    try:
        fd = os.open(scratch, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        os.chmod(scratch, 0o600)
        con = sqlite3.connect(scratch)
        try:
            con.execute(
                f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            con.commit()
        finally:
            con.close()
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass  # another process created it first: that one is the ledger
        except OSError:  # a file system without hard links: copy it to a new file instead
            _copy_new(scratch, path)
    except OSError as exc:
        raise StoreError(f"cannot create the ledger {path!r}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(scratch)


def _copy_new(source: str, path: str) -> None:
    with open(source, "rb") as fh:
        data = fh.read()
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def remove_sqlite_files(path: str) -> None:
    """Remove a ledger file this command created and could not finish (and its sidecars)."""
    for suffix in SIDECARS:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path + suffix)


def is_sqlite_ledger_file(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            header = fh.read(16)
    except OSError:
        return False
    return header == b"SQLite format 3\x00"


def check_sqlite_file(path: str) -> None:
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise StoreError(f"{path!r} cannot be read: {exc.strerror}") from None
    if size == 0 and Path(path).is_file():
        raise StoreError(
            f"{path!r} is an empty file, not a finledger ledger (a ledger file is never empty: "
            "it may have been truncated); restore it from a backup, or remove it to start a "
            "new ledger there"
        )
    if not is_sqlite_ledger_file(path):
        raise StoreError(f"{path!r} is not a finledger ledger (not a SQLite database file)")
    try:
        con = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        if read_only_place(path):
            raise StoreError(
                f"{path!r} is in a read-only place; SQLite writes its -wal and -shm files beside "
                "a ledger even to read it: copy the ledger somewhere writable, or make the "
                "folder writable"
            ) from None
        if no_space_beside(path):
            raise StoreError(
                f"the disk holding {path!r} is full (SQLite needs room beside the ledger even "
                "to read it); free some space and run the command again"
            ) from None
        raise StoreError(f"{path!r} cannot be read as a ledger: {exc}") from None
    if META_TABLE not in tables:
        # Another program's database (or an empty one): a ledger always has its meta table,
        # and adding a ledger's tables to another database would be a surprise.
        raise StoreError(
            f"{path!r} is a SQLite database but not a finledger ledger (no {META_TABLE} "
            "table); point --db / FINLEDGER_DB at a ledger or a new file"
        )


def read_only_place(path: str) -> bool:
    """Whether the ledger's folder (or file system) cannot be written to."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    return not os.access(folder, os.W_OK)


def no_space_beside(path: str) -> bool:
    """Whether the folder holding `path` has (almost) no free space left."""
    try:
        return shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free < 1 << 16
    except OSError:
        return False


def plain_head(conn: sqlite3.Connection, ledger: str = "main") -> int | None:
    """The head position of a plain (unencrypted) ledger of a format this program reads, read
    through `conn` (inside the caller's transaction); None when anything about the file calls
    for opening the store properly, with its checks and messages."""
    try:
        meta = dict(conn.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())
    except sqlite3.DatabaseError:
        return None
    from ledger.ledgers import own_meta

    meta = own_meta(meta, ledger)
    version, head = meta.get("format_version", ""), meta.get("head_position", "")
    if meta.get("encrypted") != "0" or not version.isdigit() or int(version) > FORMAT_VERSION:
        return None
    return int(head) if head.isdigit() else None
