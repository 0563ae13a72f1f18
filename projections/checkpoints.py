"""Time travel without replay: checkpoints of the books by effective date.

A checkpoint is the books (`projections.books.Books`) of the timeline as the ledger knows it
now, through one timeline key (effective date, position), stored in the ledger's store
(`ledger.timeline.CHECKPOINTS`) with its horizon: the last position the books up to that key
depend on (its events, reversed ones included, and the reversals of them). `books_as_of`
starts from the nearest checkpoint on or before the date asked for (and, as recorded at a
position, one whose horizon that position reaches: the timeline then holds the very same
events up to the key), and folds only the events after it, selected by SQL from the timeline
table: nothing past the date is read or decoded.

Checkpoints are a cache rebuilt from the stream: an `--as-of` that folds `INTERVAL` events
(or a 32nd of the ledger, if more) past the last checkpoint writes one there (so the first
query costs about what a replay did, and the next ones the fold from the nearest checkpoint);
the insert of a back-dated event or a reversal discards every checkpoint from the first one
it makes wrong (`ledger.timeline.write`); checkpoints of another shape of the books (`SHAPE`)
are ignored. On an encrypted ledger a checkpoint is encrypted with the store's own cipher, so
no holder's name is stored in clear.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import typing
import zlib
from array import array
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from events import LedgerEvent
from ledger import timeline
from ledger.errors import NotFound
from projections import books as books_module
from projections.books import Books, apply

if TYPE_CHECKING:
    from ledger.service import Ledger

INTERVAL = 10_000  # timeline events folded between two checkpoints (see bench/README.md)
MOST = 32  # checkpoints a ledger keeps at most, about (the interval grows past 320,000 events)
CHUNK = 2_000  # positions fetched and folded at a time
GAP = 64  # positions apart that are still read as one range
FORM = 2  # the stored form (bump when `encode` changes)

# attribute of `Books` -> the row class and the field its key is
TABLES: dict[str, tuple[type, str]] = {
    "series": (books_module.SeriesRow, "series"),
    "lots": (books_module.LotRow, "id"),
    "dividends": (books_module.DividendRow, "position"),
    "warrants": (books_module.WarrantRow, "ref"),
    "capital": (books_module.CapitalRow, "position"),
    "common_issues": (books_module.CommonIssueRow, "position"),
    "baselines": (books_module.BaselineRow, "position"),
    "totals": (books_module.TotalsRow, "key"),
    "terms": (books_module.TermsRow, "key"),
}


# The tables the forward fold only writes (a row per event, by position; never read back by
# `apply`): a report that does not read them is given books without them (`books_as_of`
# `skip`), their columns never decoded.
WRITE_ONLY = frozenset({"capital", "common_issues", "baselines"})


class NotDecoded(LookupError):
    """A table left undecoded (`Unread`) was read: the caller asks again with every table."""


def _refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
    raise NotDecoded("a table of the books was left undecoded and then read")


class Unread(dict[Any, Any]):
    """A table of the books not decoded from the checkpoint: the fold may write rows into it
    (and they are ignored), any read raises `NotDecoded`, so a wrong `skip` can never give a
    wrong figure, only a second, whole reading."""

    __getitem__ = __contains__ = __iter__ = __len__ = get = keys = values = items = _refuse
    pop = popitem = setdefault = copy = __delitem__ = __eq__ = _refuse
    __hash__ = None


# --- the stored form ---------------------------------------------------------------------------


@functools.cache
def _layout(cls: type) -> tuple[tuple[str, ...], dict[str, tuple[Callable[[Any], Any], bool]]]:
    """A row class's field names, and of each field not stored as is its reader and
    whether it may be None (text is read as is, but shared: see `decode`)."""
    hints = typing.get_type_hints(cls, vars(books_module))
    names: list[str] = []
    readers: dict[str, tuple[Callable[[Any], Any], bool]] = {}
    for f in dataclasses.fields(cls):
        names.append(f.name)
        args = typing.get_args(hints[f.name])
        base = next((a for a in args if a is not type(None)), hints[f.name])
        optional = type(None) in args
        if base is Decimal:
            readers[f.name] = (Decimal, optional)
        elif base is date:
            readers[f.name] = (date.fromisoformat, optional)
        elif base is str:
            readers[f.name] = (str, optional)
    return tuple(names), readers


def _shape() -> str:
    """What the stored form depends on: the row classes and their fields, by name."""
    text = repr([FORM, *((attr, cls.__name__, pk, _layout(cls)[0])
                         for attr, (cls, pk) in TABLES.items())])
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


SHAPE = _shape()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def encode(books: Books) -> bytes:
    """The books table by table and column by column, each column its plain values (dates
    and decimals as text) compressed on its own, after a header of their lengths: decoded a
    column at a time, so reading a checkpoint never holds more than one column as text."""
    parts: list[bytes] = []
    for attr, (cls, _) in TABLES.items():
        rows = [row.__dict__ for row in getattr(books, attr).values()]
        for name in _layout(cls)[0]:
            parts.append(zlib.compress(orjson.dumps([row[name] for row in rows],
                                                    default=_plain), 1))
    header = orjson.dumps([len(part) for part in parts])
    return len(header).to_bytes(4, "big") + header + b"".join(parts)


def _column(values: list[Any], read: Callable[[Any], Any], optional: bool,
            shared: dict[Any, Any]) -> list[Any]:
    """A column's values read, each distinct text read once and its value shared by every
    row that holds it (holders, series, dates and prices repeat across rows: a checkpoint
    of a long ledger decodes to a fraction of the memory one object per cell would take)."""
    out: list[Any] = []
    add = out.append
    get = shared.get
    for value in values:
        if value is None and optional:
            add(None)
            continue
        found = get(value)
        if found is None:
            found = shared[value] = read(value)
        add(found)
    return out


def decode(data: bytes, skip: frozenset[str] = frozenset()) -> Books:
    """The books of `encode`; the tables in `skip` (of `WRITE_ONLY`) left `Unread`."""
    size = int.from_bytes(data[:4], "big")
    lengths = iter(orjson.loads(data[4:4 + size]))
    offset = 4 + size
    books = Books()
    shared: dict[Callable[[Any], Any], dict[Any, Any]] = {}
    new = object.__new__
    for attr, (cls, pk) in TABLES.items():
        names, readers = _layout(cls)
        if attr in skip and attr in WRITE_ONLY:
            offset += sum(next(lengths) for _ in names)
            setattr(books, attr, Unread())
            continue
        columns: list[list[Any]] = []
        for name in names:
            length = next(lengths)
            values = orjson.loads(zlib.decompress(data[offset:offset + length]))
            offset += length
            if name in readers:
                read, optional = readers[name]
                values = _column(values, read, optional, shared.setdefault(read, {}))
            columns.append(values)
        target: dict[Any, Any] = getattr(books, attr)
        target.clear()
        key = names.index(pk)
        for values in zip(*columns, strict=True):
            row: Any = new(cls)
            row.__dict__.update(zip(names, values, strict=True))
            target[values[key]] = row
        del columns
    return books


# --- the store's table -------------------------------------------------------------------------


class Checkpoints:
    """A ledger's checkpoints in its store (`ledger.timeline.CHECKPOINTS`)."""

    def __init__(self, app: Any, ledger_id: Any) -> None:
        self.app = app
        self.ledger = ledger_id.hex
        self.sql = timeline.Sql(app.recorder)
        self.cipher = app.mapper.cipher

    def nearest(self, through: date, horizon: int | None
                ) -> tuple[tuple[str, int], bytes] | None:
        """The latest checkpoint dated by `through` (whose horizon reaches `horizon`): its
        key and its stored state (`read`)."""
        sql = (f"SELECT effective_date, position, state FROM {{{timeline.CHECKPOINTS}}} WHERE "
               "ledger_id = ? AND shape = ? AND effective_date <= ?")
        params: list[Any] = [self.ledger, SHAPE, through.isoformat()]
        if horizon is not None:
            sql += " AND horizon <= ?"
            params.append(horizon)
        sql += " ORDER BY effective_date DESC, position DESC LIMIT 1"
        rows = self.sql.query(sql, params)
        if not rows:
            return None
        on, position, state = rows[0]
        return (str(on), int(position)), bytes(state)

    def read(self, state: bytes, skip: frozenset[str] = frozenset()) -> Books | None:
        """The books of a stored state (None if it cannot be read: a cache that cannot be
        read is a miss, and the stream decides)."""
        try:
            if self.cipher is not None:
                state = self.cipher.decrypt(state)
            return decode(state, skip)
        except Exception:
            return None

    def put(self, key: tuple[str, int], books: Books) -> None:
        data = encode(books)
        if self.cipher is not None:
            data = self.cipher.encrypt(data)
        horizon = timeline.horizon(self.app, self._id(), key)
        self.sql.write(
            f"INSERT INTO {{{timeline.CHECKPOINTS}}} (ledger_id, effective_date, position, "
            "horizon, shape, state) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ledger_id, "
            "effective_date, position) DO UPDATE SET horizon = excluded.horizon, "
            "shape = excluded.shape, state = excluded.state",
            [(self.ledger, key[0], key[1], horizon, SHAPE, data)])

    def _id(self) -> Any:
        from uuid import UUID

        return UUID(self.ledger)


# --- the books as of a date --------------------------------------------------------------------


def _events(book: Ledger, wanted: tuple[array[int], array[int]]) -> Iterator[LedgerEvent]:
    """The events at the positions `wanted` (positions, their dates' ordinals), in that
    order, read in ranges of nearby positions, a chunk at a time; each decoded event is
    checked against its timeline row."""
    from ledger.stream import KeyMismatch

    app = book.open()
    decode_row = book.stream().decode
    all_positions, all_ordinals = wanted
    for start in range(0, len(all_positions), CHUNK):
        chunk = all_positions[start:start + CHUNK]
        ordinals = all_ordinals[start:start + CHUNK]
        positions = sorted(chunk)
        want = set(positions)
        found: dict[int, LedgerEvent] = {}
        first = last = positions[0]
        for position in [*positions[1:], None]:
            if position is not None and position - last <= GAP:
                last = position
                continue
            for row in app.recorder.select_events(book.id, gt=first - 1 or None, lte=last):
                if row.originator_version in want:
                    found[row.originator_version] = decode_row(row)
            if position is not None:
                first = last = position
        for position, ordinal in zip(chunk, ordinals, strict=True):
            event = found.get(position)
            if event is None or event.effective_date.toordinal() != ordinal:
                raise KeyMismatch(f"position {position} is not as its timeline row says")
            yield event


def books_as_of(
    book: Ledger, as_of: date | None, as_recorded: int | None,
    judge: Callable[[date | None], date] | None = None, skip: frozenset[str] = frozenset(),
) -> tuple[Books, date]:
    """The books of the timeline (as recorded at position `as_recorded`) through `as_of`
    (None: `judge` of the latest effective date, by default that date), and that date:
    what a replay of the stream gives, from the nearest checkpoint. The tables in `skip`
    (of `WRITE_ONLY`) may be left `Unread` when the fold starts from a checkpoint."""
    from ledger.stream import KeyMismatch

    app = book.open()
    if not timeline.ensure(app, book.id, book.stream().decode) \
            and not timeline.complete(app, book.id):
        return _replayed(book, as_of, as_recorded, judge)  # a stream with gaps: read whole
    count, _ = timeline.latest(app, book.id)
    if as_recorded is not None and as_recorded > count:
        raise no_position(as_recorded, count)
    _, latest = timeline.latest(app, book.id, as_recorded)
    on = as_of if as_of is not None else (judge(latest) if judge else latest or date.min)
    now = as_recorded is None or as_recorded >= count  # the timeline as known now
    store = Checkpoints(app, book.id)
    found = store.nearest(on, None if now else as_recorded)
    after = found[0] if found is not None else None
    wanted = timeline.order(app, book.id, upto=None if now else as_recorded, after=after,
                            through=on)
    every = max(INTERVAL, count // MOST)  # each checkpoint holds all the books: bounded
    writes = now and len(wanted[0]) >= every  # a checkpoint is due: the books are kept whole
    books = store.read(found[1], frozenset() if writes else skip) if found else None
    if books is None:
        after, books = None, Books()
        if found is not None:  # unreadable: the fold starts from the first event
            wanted = timeline.order(app, book.id, upto=None if now else as_recorded,
                                    through=on)
    try:
        for folded, event in enumerate(_events(book, wanted), 1):
            apply(books, event)
            if writes and folded % every == 0:
                with contextlib.suppress(Exception):  # a cache: one not written now is later
                    store.put((event.effective_date.isoformat(), event.originator_version),
                              books)
    except KeyMismatch:
        return _replayed(book, as_of, as_recorded, judge)
    return books, on


def _replayed(book: Ledger, as_of: date | None, as_recorded: int | None,
              judge: Callable[[date | None], date] | None) -> tuple[Books, date]:
    """The books by a replay of the whole stream held in memory (a stream with gaps, or
    one that changed while it was read)."""
    from projections.books import replay

    events = book.events()
    if as_recorded is not None:
        if as_recorded > len(events):
            raise no_position(as_recorded, len(events))
        events = events[:as_recorded]
    latest = max((e.effective_date for e in events), default=None)
    on = as_of if as_of is not None else (judge(latest) if judge else latest or date.min)
    return replay(events, on), on


def no_position(position: int, count: int) -> NotFound:
    return NotFound(f"there is no position {position}; this ledger has {count} events "
                    "(see `finledger log`)")
