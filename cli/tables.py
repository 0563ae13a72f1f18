"""Width-safe output: every report table goes through `emit`, and no figure is ever cut.

A table is laid out for the console's width in the first of these that fits:

1. as drawn, when its natural width fits;
2. with the text columns wrapped at spaces (a word, a date, a figure is never broken) and each
   figure column (`no_wrap`) as wide as its widest cell;
3. the same without the columns a builder marked `optional`, with a note naming them;
4. 2 and 3 again with the columns one space apart (no padding);
5. one record per row: each row's cells as `header  value` lines (a value too long for the
   line wraps at spaces below its header).

Lines carry no trailing spaces, and the console decides about escape codes (none under
NO_COLOR or in a pipe). Builders stay pure (rows in, a rich `Table` out); only `emit` knows
the width.
"""

from __future__ import annotations

import copy
import re
import weakref
from collections.abc import Iterator
from typing import Any

from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.table import Column, Row, Table
from rich.text import Text

_OPTIONAL: weakref.WeakKeyDictionary[Table, tuple[str, ...]] = weakref.WeakKeyDictionary()
_WIDE = 100_000  # a width no table reaches: its natural layout
SHORT_VALUE = 30  # a stacked value up to this wide is aligned with the figures


def optional(table: Table, *headers: str) -> Table:
    """Mark the columns (by header) that may be left out, with a note, when the table is too
    wide for the terminal; everything else is always shown whole."""
    _OPTIONAL[table] = headers
    return table


def emit(console: Console, *renderables: RenderableType) -> None:
    """Print report output laid out for `console.width`, without trailing spaces."""
    width = console.width
    parts = [fit(console, r, width) for r in renderables]
    with console.capture() as captured:
        for part in parts:
            console.print(part, crop=False)  # a word wider than the line stays whole
    text = captured.get()
    console.file.write("".join(_rstrip(line) + "\n" for line in text.splitlines()))
    console.file.flush()


def fit(console: Console, renderable: RenderableType, width: int) -> RenderableType:
    """`renderable` laid out for `width`: tables (also inside groups) fitted, the rest as is."""
    if isinstance(renderable, Group):
        return Group(*(fit(console, r, width) for r in renderable.renderables))
    if isinstance(renderable, Table):
        return fit_table(console, renderable, width)
    return renderable


_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
_TAIL = re.compile(r"(?:[ \t]|\x1b\[[0-9;]*m)+$")


def _rstrip(line: str) -> str:
    """The line without trailing blanks, keeping any escape codes that close a style."""
    tail = _TAIL.search(line)
    if tail is None:
        return line
    return line[:tail.start()] + "".join(_ESCAPE.findall(tail.group()))


# --- measuring ---------------------------------------------------------------------------------


def _plain(console: Console, cell: Any) -> str:
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return console.render_str(cell).plain
    return str(cell)


def _lines(text: str) -> list[str]:
    return text.split("\n") if text else [""]


def _column_range(console: Console, column: Column) -> tuple[int, int]:
    """(narrowest, natural) width: a no_wrap column's narrowest is its widest cell; any other
    column may wrap at spaces, so its narrowest is its longest word."""
    cells = [_plain(console, c) for c in column.cells]
    header = _plain(console, column.header)
    lines = [line for text in cells for line in _lines(text)]
    natural = max([cell_len(line) for line in [*lines, *_lines(header)]], default=0)
    words = [w for line in [*lines, *_lines(header)] for w in line.split(" ")]
    longest_word = max((cell_len(w) for w in words), default=0)
    if column.no_wrap:
        widest_cell = max((cell_len(line) for line in lines), default=0)
        narrowest = max(widest_cell, longest_word)
    else:
        narrowest = longest_word
    return max(narrowest, 1), max(natural, 1)


def _clone(table: Table) -> Table:
    """A copy whose layout (widths, padding, columns kept) can change; cells are shared."""
    clone = copy.copy(table)
    clone.columns = [copy.copy(column) for column in table.columns]
    clone.rows = list(table.rows)
    return clone


def _overhead(console: Console, table: Table) -> int:
    """What the table adds around its columns' content (padding, separators, edges)."""
    probe = _clone(table)
    probe.title = probe.caption = None
    probe.min_width = None
    probe.show_header = False
    probe.rows = [Row()]
    for column in probe.columns:
        column._cells = ["x" * 3]
        column.width, column.min_width, column.max_width = 3, None, None
        column.header = ""
    lines = console.render_lines(probe, console.options.update_width(_WIDE), pad=False)
    full = max((len("".join(s.text for s in line)) for line in lines), default=0)
    return max(full - 3 * len(probe.columns), 0)


def _fits(console: Console, table: Table, ranges: list[tuple[int, int]], width: int) -> bool:
    """Whether the table as drawn (every column at its natural width) fits."""
    natural = sum(high for _, high in ranges) + _overhead(console, table)
    return natural <= width and (table.min_width or 0) <= width


# --- laying out --------------------------------------------------------------------------------


def fit_table(console: Console, table: Table, width: int) -> RenderableType:
    if _fits(console, table, [_column_range(console, c) for c in table.columns], width):
        return table
    dropped = _without_optional(table)
    tries: list[tuple[Table, list[str]]] = [(table, [])]
    if dropped is not None:
        tries.append(dropped)
    tries += [(_tight(t), names) for t, names in tries]
    for candidate, names in tries:
        wrapped = _wrapped(console, candidate, width)
        if wrapped is None:
            continue
        if not names:
            return wrapped
        note = Text(f"({', '.join(names)} not shown at this width: widen the terminal, set "
                    "COLUMNS, or use --json)", style="dim")
        return Group(wrapped, note)
    return _stacked(console, table, width)


def _wrapped(console: Console, table: Table, width: int) -> Table | None:
    """The table with fixed column widths that fit `width`, or None if even the narrowest
    (every figure whole, every word whole) does not."""
    ranges = [_column_range(console, c) for c in table.columns]
    room = width - _overhead(console, table)
    if sum(low for low, _ in ranges) > room:
        return None
    widths = [low for low, _ in ranges]
    spare = room - sum(widths)
    while spare > 0:  # widen the columns still short of their natural width, a cell at a time
        short = [i for i, (low, high) in enumerate(ranges) if widths[i] < high]
        if not short:
            break
        for i in short:
            if spare == 0:
                break
            widths[i] += 1
            spare -= 1
    fitted = _clone(table)
    fitted.min_width = None
    fitted.expand = False
    for column, w in zip(fitted.columns, widths, strict=True):
        column.width, column.min_width, column.max_width = w, None, None
        column.overflow = "fold"
    return fitted


def _tight(table: Table) -> Table:
    """The table with no padding: columns one separator apart."""
    tight = _clone(table)
    tight.padding = (0, 0, 0, 0)
    return tight


def _without_optional(table: Table) -> tuple[Table, list[str]] | None:
    names = _OPTIONAL.get(table, ())
    keep = [i for i, c in enumerate(table.columns) if _header(c) not in names]
    dropped = [_header(c) for c in table.columns if _header(c) in names]
    if not dropped:
        return None
    narrower = _clone(table)
    narrower.columns = [narrower.columns[i] for i in keep]
    return narrower, dropped


def _header(column: Column) -> str:
    header = column.header
    text = header.plain if isinstance(header, Text) else str(header)
    return " ".join(text.split())


def _stacked(console: Console, table: Table, width: int) -> RenderableType:
    """One record per row: the first cell names the record (unless it is a figure), then one
    `header  value` line per cell that is not blank."""
    parts: list[RenderableType] = []
    if table.title:
        parts.append(Text(_plain(console, table.title), style=str(table.title_style or "")))
    headers = [_header(c) for c in table.columns]
    columns = [[_plain(console, cell) for cell in c.cells] for c in table.columns]
    named = bool(table.columns) and table.columns[0].justify != "right"
    records: list[tuple[str, list[tuple[str, str]], str]] = []
    for index, row in enumerate(table.rows):
        cells = [" ".join(column[index].split()) if index < len(column) else ""
                 for column in columns]
        fields = [(h or "Value", v) for h, v in zip(headers, cells, strict=True)][int(named):]
        records.append((cells[0] if named else "", [(h, v) for h, v in fields if v],
                        str(row.style or "")))
    every = [field for _, fields, _ in records for field in fields]
    right = _right_edge(every, width)
    for name, fields, style in records:
        lines = list(_record(name, fields, width, right))
        if lines:
            parts.append(Text(""))
            parts.extend(Text(line, style=style, no_wrap=True, overflow="ignore")
                         for line in lines)
    if table.caption:
        parts.append(Text(""))
        parts.append(Text(_plain(console, table.caption)))
    return Group(*parts)


def _right_edge(fields: list[tuple[str, str]], width: int) -> int:
    """Where a stacked table's values end: aligned on the figures and short values (a long
    text goes on lines of its own)."""
    if not fields:
        return width
    keys = max(cell_len(k) for k, _ in fields)
    lines = [2 + cell_len(k) + 2 + cell_len(v) for k, v in fields]
    short = [n for n in lines if n <= min(width, 2 + keys + 2 + SHORT_VALUE)]
    return max(short) if short else min(width, max(lines))


def _record(name: str, fields: list[tuple[str, str]], width: int, right: int
            ) -> Iterator[str]:
    if name:
        yield from _wrap_words(name, width, indent=0)
    for key, value in fields:
        line = 2 + cell_len(key) + 2 + cell_len(value)
        if line <= right:
            yield f"  {key}{' ' * (right - line + 2)}{value}"
        else:  # the value on a line of its own, right-aligned where it fits
            yield f"  {key}"
            if 4 + cell_len(value) <= right:
                yield " " * (right - cell_len(value)) + value
            else:
                yield from _wrap_words(value, width, indent=4)


def _wrap_words(text: str, width: int, *, indent: int) -> Iterator[str]:
    """Text wrapped at spaces only (a word longer than the line stays whole)."""
    line = ""
    for word in text.split(" "):
        if line and indent + cell_len(line) + 1 + cell_len(word) > width:
            yield " " * indent + line
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        yield " " * indent + line
