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
    chunks: list[str] = []
    _TEXTS.clear()  # (each cell's text, measured once however many layouts are tried)
    _NATURALS.clear()
    try:
        _emit_parts(console, renderables, width, chunks)
    finally:
        _TEXTS.clear()
        _NATURALS.clear()
    text = "".join(chunks)
    console.file.write("".join(_rstrip(line) + "\n" for line in text.splitlines()))
    console.file.flush()


_TEXTS: dict[int, str] = {}
_NATURALS: dict[tuple[int, int], int] = {}  # a column's natural width, by its cells and header


def _emit_parts(console: Console, renderables: tuple[RenderableType, ...], width: int,
                chunks: list[str]) -> None:
    for part in _flat(list(renderables)):
        # a table that fits as drawn is printed as drawn (`fit`'s first layout), plainly
        drawn = plain_table(console, part) \
            if isinstance(part, Table) and (part.min_width or 0) <= width else None
        if drawn is not None:
            chunks.append(drawn)
            continue
        for laid in _flat([fit(console, part, width)]):
            drawn = plain_table(console, laid) if isinstance(laid, Table) else None
            if drawn is None:
                with console.capture() as captured:
                    console.print(laid, crop=False)  # a word wider than the line stays whole
                drawn = captured.get()
            chunks.append(drawn)


def _flat(parts: list[RenderableType]) -> Iterator[RenderableType]:
    """Groups opened up: their parts print one after the other, as the group prints them."""
    for part in parts:
        if isinstance(part, Group):
            yield from _flat(list(part.renderables))
        else:
            yield part


# --- drawing a table that fits, without escape codes --------------------------------------------
# rich lays out and renders every cell through its general machinery (some 150 us a cell), so a
# report of thousands of rows took 30 times its JSON to draw. A table that fits the line as drawn
# on a console that writes no escape codes (a pipe, NO_COLOR aside) needs only its cells' text,
# padded and joined by the box's characters: drawn here, line for line what rich draws
# (tests/cli/test_widths.py compares the two on every report and on random tables). Anything this
# does not cover (colour, a fixed or expanding width, wrapped cells, footers, lines between
# rows) is left to rich.


def _cell_text(console: Console, cell: Any) -> str | None:
    """A cell's text as rich would lay it out, or None when only rich can say."""
    if isinstance(cell, str):
        text = _plain(console, cell)
    elif isinstance(cell, Text):
        if cell.justify is not None or cell.tab_size not in (None, 8):
            return None
        text = cell.plain
    else:
        return None
    if not text.isprintable():  # line breaks other than \n, tabs, control characters
        stripped = text.replace("\n", "")
        if not stripped.isprintable() or text.endswith("\n"):
            return None
    return text


def plain_table(console: Console, table: Table) -> str | None:
    """`table` drawn as rich draws it on this console, when it needs no escape codes and
    fits the console's width as drawn; else None (rich draws it)."""
    if (console.color_system is not None or table.width is not None or table.expand
            or table.show_footer or table.show_lines or table.leading or table.collapse_padding
            or not table.pad_edge or not table.columns):
        return None
    top, right, bottom, left = table.padding
    if top or bottom:
        return None
    columns: list[list[str]] = []  # per column, per row (header first), its text
    widths: list[int] = []
    body_at = 1 if table.show_header else 0
    for column in table.columns:
        if column.max_width is not None or column.justify not in ("left", "right", "default"):
            return None
        cells = [column.header, *column.cells] if table.show_header else list(column.cells)
        if not cells:
            return None  # (rich gives a column of no cells the whole width)
        texts: list[str] = []
        natural = 0
        for cell in cells:
            text = _cell_text(console, cell)
            if text is None:
                return None
            if column.width is not None:
                pass  # (its width is set: what fits in it is measured below)
            elif "\n" in text:
                natural = max(natural, *(_width(line) for line in text.split("\n")))
            else:
                natural = max(natural, _width(text))
            texts.append(text)
        if column.width is None and table.show_header:
            _NATURALS[id(column._cells), id(column.header)] = max(natural, 1)
        if column.width is not None:
            width = column.width + left + right
        else:
            width = natural + left + right
            if column.min_width is not None:
                width = max(width, column.min_width + left + right)
        widths.append(width or 1)
        columns.append(texts)
    edge = bool(table.box and table.show_edge)
    extra = (2 if edge else 0) + (len(widths) - 1 if table.box else 0)
    if sum(widths) + extra > console.width:
        return None
    if table.min_width is not None and sum(widths) < table.min_width - extra:
        from rich._ratio import ratio_distribute

        room = min(table.min_width - extra, console.width - extra) - sum(widths)
        widths = [w + pad for w, pad in zip(widths, ratio_distribute(room, widths), strict=True)]
    tall: set[int] = set()  # the rows with a cell of several lines
    for column, texts, width in zip(table.columns, columns, widths, strict=True):
        for index, raw in enumerate(texts):
            text = raw
            inner = width - left - right
            if column.width is not None and not (
                    "\n" not in raw and len(raw) <= inner and _width(raw) <= inner):
                # a width `fit` chose: the text wraps at spaces in it
                lines = _wrapped_lines(raw, inner, column.no_wrap, column.overflow)
                if lines is None:
                    return None
                text = texts[index] = "\n".join(lines)
            if "\n" in text:
                if index >= body_at and column.vertical != "top":
                    return None  # (a body cell of several lines aligned otherwise)
                tall.add(index)
    table_width = sum(widths) + extra
    options = console.options.update(width=table_width, highlight=table.highlight, height=None)
    out: list[str] = []
    if table.title:
        out.append(_annotation(console, options, table.title,
                               table.title_style or "table.title", table.title_justify))
    out.extend(_body(console, table, columns, widths, (left, right), tall))
    if table.caption:
        out.append(_annotation(console, options, table.caption,
                               table.caption_style or "table.caption", table.caption_justify))
    return "".join(out)


def _annotation(console: Console, options: Any, text: Any, style: Any, justify: Any) -> str:
    rendered = console.render_str(text, style=style, highlight=False) if isinstance(text, str) \
        else text
    return "".join(s.text for s in console.render(rendered, options.update(justify=justify)))


def _body(console: Console, table: Table, columns: list[list[str]], widths: list[int],  # noqa: PLR0917
          padding: tuple[int, int], tall: set[int]) -> Iterator[str]:
    from rich.box import Box

    left, right = padding
    box: Box | None = table.box
    if box is not None:
        box = box.substitute(console.options, safe=table.safe_box if table.safe_box is not None
                             else console.safe_box)
        if not table.show_header:
            box = box.get_plain_headed_box()
    edge = bool(box and table.show_edge)
    if box is not None and edge:
        yield box.get_top(widths) + "\n"
    inners = [width - left - right for width in widths]
    rights = [column.justify == "right" for column in table.columns]
    vertical = [column.vertical for column in table.columns]
    before, after = " " * left, " " * right
    rows = len(columns[0])
    header = table.show_header
    for index, cells in enumerate(zip(*columns, strict=True)):
        first, last = index == 0, index == rows - 1
        header_row = first and header
        if box is None:
            edges = ("", "", "")
        elif first:
            edges = (box.head_left, box.head_right, box.head_vertical)
        elif last:
            edges = (box.foot_left, box.foot_right, box.foot_vertical)
        else:
            edges = (box.mid_left, box.mid_right, box.mid_vertical)
        if not edge:
            edges = ("", "", edges[2])
        if index not in tall:
            line = edges[2].join([
                f"{before}{' ' * (inner - _width(text.rstrip()))}{text.rstrip()}{after}" if right_
                else f"{before}{text}{' ' * (inner - _width(text))}{after}"
                for text, inner, right_ in zip(cells, inners, rights, strict=True)])
            yield f"{edges[0]}{line}{edges[1]}\n"
        else:
            split = [text.split("\n") for text in cells]
            height = max(len(lines) for lines in split)
            drawn: list[list[str]] = []
            for lines, inner, right_, where in zip(split, inners, rights, vertical, strict=True):
                shaped = [_justified(line, inner, right_) for line in lines]
                if len(shaped) < height:
                    blank = [" " * inner] * (height - len(shaped))
                    shaped = blank + shaped if header_row or where == "bottom" else shaped + blank
                drawn.append([f"{before}{line}{after}" for line in shaped])
            for line_no in range(height):
                line = edges[2].join(cell[line_no] for cell in drawn)
                yield f"{edges[0]}{line}{edges[1]}\n"
        if box is not None and header_row:
            yield box.get_row(widths, "head", edge=edge) + "\n"
        if box is not None and not header_row and not last \
                and table.rows[index - 1 if header else index].end_section:
            yield box.get_row(widths, "row", edge=edge) + "\n"
    if box is not None and edge:
        yield box.get_bottom(widths) + "\n"


def _wrapped_lines(text: str, width: int, no_wrap: bool, overflow: str) -> list[str] | None:
    """The lines of a cell of a fixed `width` as rich's `Text.wrap` makes them (None when
    it would crop or fold them otherwise than at spaces)."""
    from rich._wrap import divide_line

    out: list[str] = []
    for line in text.split("\n"):
        if no_wrap or _width(line) <= width:
            pieces = [line]
        elif overflow != "fold":
            return None
        else:
            offsets = divide_line(line, width, fold=True)
            pieces = [line[a:b] for a, b in zip([0, *offsets], [*offsets, len(line)], strict=True)]
        for piece in pieces:
            cut = piece
            if len(cut) > width and not no_wrap:  # `Text.rstrip_end`: the blanks past the width go
                blanks = len(cut) - len(cut.rstrip())
                cut = cut[:len(cut) - min(blanks, len(cut) - width)]
            if _width(cut) > width:
                return None
            out.append(cut)
    return out


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def _justified(line: str, width: int, right: bool) -> str:
    if right:
        line = line.rstrip()
        return " " * (width - _width(line)) + line
    return line + " " * (width - _width(line))


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
    if "\x1b" not in line:
        return line.rstrip(" \t")
    tail = _TAIL.search(line)
    if tail is None:
        return line
    return line[:tail.start()] + "".join(_ESCAPE.findall(tail.group()))


# --- measuring ---------------------------------------------------------------------------------


def _plain(console: Console, cell: Any) -> str:
    if isinstance(cell, str):  # markup and emoji codes need rich; other text is as written
        if "[" not in cell and ":" not in cell:
            return cell
        known = _TEXTS.get(id(cell))
        if known is None:
            known = _TEXTS[id(cell)] = console.render_str(cell).plain
        return known
    if isinstance(cell, Text):
        return cell.plain
    return str(cell)


def _lines(text: str) -> list[str]:
    return text.split("\n") if text else [""]


def _column_range(console: Console, column: Column) -> tuple[int, int]:
    """(narrowest, natural) width: a no_wrap column's narrowest is its widest cell; any other
    column may wrap at spaces, so its narrowest is its longest word."""
    widest_cell = longest_word = 0
    for cell in column.cells:
        text = _plain(console, cell)
        if "\n" in text:
            widest_cell = max(widest_cell, *(_width(line) for line in text.split("\n")))
        else:
            widest_cell = max(widest_cell, _width(text))
        if not column.no_wrap:
            longest_word = max(longest_word, *(_width(w) for w in text.replace("\n", " ")
                                               .split(" ")))
    header = _plain(console, column.header)
    header_lines = _lines(header)
    natural = max(widest_cell, *(_width(line) for line in header_lines))
    longest_word = max(longest_word, *(_width(w) for line in header_lines
                                       for w in line.split(" ")))
    # (a no_wrap column's cells are whole: its words are no wider than its widest cell)
    narrowest = max(widest_cell, longest_word) if column.no_wrap else longest_word
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


def _natural(console: Console, column: Column) -> int:
    """The column's natural width (its widest line, the header's included)."""
    known = _NATURALS.get((id(column._cells), id(column.header)))
    if known is not None:
        return known
    widest = 0
    for cell in [column.header, *column.cells]:
        text = _plain(console, cell)
        size = max(_width(line) for line in text.split("\n")) if "\n" in text \
            else _width(text)
        widest = max(widest, size)
    return max(widest, 1)


def _fits(console: Console, table: Table, naturals: list[int], width: int) -> bool:
    """Whether the table as drawn (every column at its natural width) fits."""
    natural = sum(naturals) + _overhead(console, table)
    return natural <= width and (table.min_width or 0) <= width


# --- laying out --------------------------------------------------------------------------------


def fit_table(console: Console, table: Table, width: int) -> RenderableType:
    if _fits(console, table, [_natural(console, c) for c in table.columns], width):
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
