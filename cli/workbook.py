"""A report as an xlsx workbook (openpyxl): one sheet per table, numbers as numbers.

Row 1 of every sheet says what the figures are: the report, the date it is as of, and the
ledger's head (position and hash) when it was written, so a spreadsheet can be tied back to
the ledger it came from. Row 2 holds the column keys (the keys `--json` and `--csv` use),
then one row per table row. Money and prices are stored as numbers with a currency format,
shares with an integer format, dates as dates. The workbook is written to a temporary file
beside the target (readable by its owner only: it names every holder) and renamed into place,
so a reader never sees half a workbook and a failed write leaves the old file as it was.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app.reports import Described, Kind, Table, plain

FORMATS = {
    Kind.SHARES: "#,##0",
    Kind.INTEGER: "0",
    Kind.MONEY: '"$"#,##0.00',
    Kind.PRICE: '"$"#,##0.00##',
    Kind.PERCENT: '0.00##"%"',
    Kind.DATE: "yyyy-mm-dd",
    Kind.DATETIME: "yyyy-mm-dd hh:mm:ss",
}
WIDTHS = {Kind.TEXT: 18, Kind.JSON: 60, Kind.DATETIME: 20, Kind.DATE: 12}


def _cell(kind: Kind, value: Any) -> Any:
    """The value as the workbook stores it (openpyxl writes a Decimal as its exact text)."""
    if value is None:
        return None
    if kind is Kind.DATE and isinstance(value, str):
        return date.fromisoformat(value)
    if kind is Kind.DATETIME:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        # xlsx has no time zones: recorded times are stored as UTC wall-clock times
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    if kind is Kind.JSON or (kind is Kind.TEXT and not isinstance(value, str)):
        return plain(value)
    return value


def _sheet_name(name: str, taken: set[str]) -> str:
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "table"
    candidate, n = base, 2
    while candidate.lower() in taken:
        candidate = f"{base[:28]}_{n}"
        n += 1
    taken.add(candidate.lower())
    return candidate


def _fill(sheet: Any, described: Described, table: Table, head: tuple[int, str]) -> None:
    from openpyxl.utils import get_column_letter

    sheet.append([described.title, "as of", described.as_of, "ledger head", head[1],
                  "at position", head[0]])
    if described.as_of is not None:
        sheet.cell(row=1, column=3).number_format = FORMATS[Kind.DATE]
    sheet.append([column.key for column in table.columns])
    for row in table.rows:
        sheet.append([_cell(column.kind, value)
                      for column, value in zip(table.columns, table.values(row), strict=True)])
    for index, column in enumerate(table.columns, start=1):
        number_format = FORMATS.get(column.kind)
        if number_format is not None:
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                cell.number_format = number_format
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(WIDTHS.get(column.kind, 14),
                                                    len(column.key) + 2)
    sheet.freeze_panes = "A3"


def write_workbook(described: Described, path: Path, head: tuple[int, str]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    default = book.active
    taken: set[str] = set()
    for table in described.tables:
        _fill(book.create_sheet(_sheet_name(table.name, taken)), described, table, head)
    if default is not None and described.tables:
        book.remove(default)
    from app.files import private_binary_output

    with private_binary_output(path) as fh:
        book.save(fh)
