"""`--csv` and `-o FILE.xlsx`: every report's tables read back to the figures of `--json`."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.cli.test_report import setup_ledger

Rows = list[dict[str, Any]]

# Which rows of the JSON document each table holds (written out here, not taken from the code).
TABLES: dict[str, list[tuple[str, Any]]] = {
    "preferred": [
        ("series", lambda d: d["series"]),
        ("holders", lambda d: [{"series": s["series"], **h} for s in d["series"]
                               for h in s["holders"]]),
    ],
    "warrants": [
        ("warrants", lambda d: d["warrants"]),
        ("by_price", lambda d: d["by_price"]),
        ("by_closing", lambda d: d["by_closing"]),
    ],
    "capital": [("entries", lambda d: d["entries"]), ("periods", lambda d: d["periods"])],
    "summary": [(name, lambda d, name=name: [d[name]])
                for name in ("capital", "preferred", "warrants", "fully_diluted")],
    "dividends": [
        ("series", lambda d: d["series"]),
        ("holders", lambda d: [{"series": s["series"], **h} for s in d["series"]
                               for h in s["holders"]]),
    ],
    "eps": [
        ("eps", lambda d: [d]),
        ("preferred_dividends", lambda d: d["preferred"]),
        ("securities", lambda d: [{"treatment": "dilutive", **r} for r in d["dilutive"]]
         + [{"treatment": "anti-dilutive", **r} for r in d["anti_dilutive"]]),
    ],
}
ARGS = {
    "preferred": ["--as-of", "2020-12-31"],
    "warrants": ["--as-of", "2021-01-02", "--market-price", "3"],
    "capital": ["--by", "quarter"],
    "summary": ["--as-of", "2020-12-31"],
    "dividends": ["--as-of", "2020-08-15", "--price", "3"],
    "eps": ["--from", "2020-04-01", "--to", "2020-09-30", "--net-income", "250000",
            "--average-price", "3"],
}


def as_json_writes(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def csv_blocks(text: str) -> list[list[dict[str, str]]]:
    blocks = text.split("\n\n")
    return [list(csv.DictReader(io.StringIO(block))) for block in blocks]


@pytest.fixture
def ledger(fl: Any) -> Any:
    setup_ledger(fl)
    for args in (
        ["record", "warrants", "--holder", "Z", "--shares", "500", "--exercise-price", "2.125",
         "--date", "2020-03-01", "--ref", "W2", "--label", "Placement agent"],
        ["record", "conversion", "A", "--holder", "Y", "--shares", "5", "--date", "2020-07-01"],
    ):
        r = fl(*args)
        assert r.code == 0, r.err
    return fl


@pytest.mark.parametrize("name", sorted(TABLES))
def test_csv_reads_back_to_the_json_figures(ledger: Any, name: str) -> None:
    document = json.loads(ledger("report", name, *ARGS[name], "--json").out)
    r = ledger("report", name, *ARGS[name], "--csv")
    assert r.code == 0, r.err
    blocks = csv_blocks(r.out)
    assert len(blocks) == len(TABLES[name])
    for rows, (table, pick) in zip(blocks, TABLES[name], strict=True):
        expected = pick(document)
        assert rows and len(rows) == len(expected), table
        for got, want in zip(rows, expected, strict=True):
            for key, text in got.items():
                assert text == as_json_writes(want[key]), (table, key)


def test_csv_figures_are_unformatted(ledger: Any) -> None:
    out = ledger("report", "capital", "--csv").out
    assert out.splitlines()[0] == "date,source,ref,security,position,gross,fees,net,cumulative_gross"
    assert "50000.00" in out and "50,000" not in out and "$" not in out


def test_log_csv_has_one_row_per_event(ledger: Any) -> None:
    entries = json.loads(ledger("log", "--json").out)
    r = ledger("log", "--csv", "--type", "ClosingCompleted")
    assert r.code == 0, r.err
    (rows,) = csv_blocks(r.out)
    closings = [e for e in entries if e["type"] == "ClosingCompleted"]
    assert [int(row["position"]) for row in rows] == [e["position"] for e in closings]
    assert json.loads(rows[0]["data"]) == closings[0]["data"]
    assert rows[0]["recorded_at"] == closings[0]["recorded_at"]
    assert rows[0]["hash"] == closings[0]["hash"]


def _same(cell: Any, want: Any) -> bool:
    if want is None or want == "":  # an empty cell: xlsx keeps no empty text
        return cell is None
    if isinstance(want, bool):
        return cell is want
    if isinstance(want, int):
        return isinstance(cell, int) and cell == want
    if isinstance(cell, datetime):
        return cell.date() == date.fromisoformat(want)
    if isinstance(cell, int | float):
        return Decimal(repr(cell)) == Decimal(want)
    return bool(cell == want)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_xlsx_reads_back_to_the_json_figures(ledger: Any, name: str, tmp_path: Path) -> None:
    document = json.loads(ledger("report", name, *ARGS[name], "--json").out)
    head = json.loads(ledger("log", "--json").out)[-1]
    target = tmp_path / f"{name}.xlsx"
    r = ledger("report", name, *ARGS[name], "-o", str(target))
    assert r.code == 0, r.err
    assert r.out == ""
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == [table for table, _ in TABLES[name]]
    for table, pick in TABLES[name]:
        sheet = book[table]
        header, keys, *rows = list(sheet.iter_rows(values_only=True))
        assert header[1] == "as of"
        if "as_of" in document:
            assert header[2].date().isoformat() == document["as_of"]
        assert header[3:7] == ("ledger head", head["hash"], "at position", head["position"])
        expected = pick(document)
        assert len(rows) == len(expected)
        keys = [k for k in keys if k is not None]
        for got, want in zip(rows, expected, strict=True):
            for key, cell in zip(keys, got, strict=False):
                assert _same(cell, want[key]), (table, key, cell, want[key])


def test_xlsx_stores_numbers_and_dates_with_formats(ledger: Any, tmp_path: Path) -> None:
    target = tmp_path / "w.xlsx"
    assert ledger("report", "warrants", "-o", str(target)).code == 0
    sheet = openpyxl.load_workbook(target)["warrants"]
    keys = [c.value for c in sheet[2]]
    row = dict(zip(keys, sheet[3], strict=True))
    assert row["issued"].data_type == "n" and row["issued"].number_format == "#,##0"
    assert row["potential_proceeds"].data_type == "n"
    assert "$" in row["potential_proceeds"].number_format
    assert row["exercise_price"].value == 2.5
    assert row["issued_on"].is_date and row["issued_on"].value.date() == date(2020, 1, 1)
    assert target.stat().st_mode & 0o077 == 0  # it names every holder: owner only
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_log_xlsx(ledger: Any, tmp_path: Path) -> None:
    target = tmp_path / "log.xlsx"
    assert ledger("log", "-o", str(target)).code == 0
    entries = json.loads(ledger("log", "--json").out)
    _, keys, *rows = list(openpyxl.load_workbook(target)["events"].iter_rows(values_only=True))
    assert [row[0] for row in rows] == [e["position"] for e in entries]
    assert json.loads(rows[1][keys.index("data")]) == entries[1]["data"]


@pytest.mark.parametrize("args", [
    ["--json", "--csv"], ["--csv", "-o", "x.xlsx"], ["-o", "report.csv"],
])
def test_one_output_at_a_time(ledger: Any, args: list[str]) -> None:
    r = ledger("report", "summary", *args)
    assert r.code == 2 and r.err.startswith("Error: ") and len(r.err.splitlines()) == 1
    assert "Traceback" not in r.err


def test_an_unwritable_workbook_is_refused(ledger: Any, tmp_path: Path) -> None:
    r = ledger("report", "summary", "-o", str(tmp_path / "missing" / "s.xlsx"))
    assert r.code == 1 and r.err.startswith("Error: cannot write")


def test_a_report_without_a_drawn_table_prints_each_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cli.output import Format, Output, emit
    from projections.tables import Described, Kind, table

    rows = [{"holder": "X", "shares": 1234567, "amount": Decimal("1500.00")}]
    described = Described("Holders", date(2020, 1, 1), {"rows": rows}, (
        table("holders", rows, ("holder", Kind.TEXT), ("shares", Kind.SHARES),
              ("amount", Kind.MONEY)),))
    emit(described, Output(Format.TABLE))
    text = capsys.readouterr().out
    assert "Holders: holders as of 2020-01-01" in text
    assert "1,234,567" in text and "1,500.00" in text
    emit(described, Output(Format.CSV))
    assert capsys.readouterr().out == "holder,shares,amount\nX,1234567,1500.00\n"


def test_every_report_takes_csv_and_a_workbook_and_is_described() -> None:
    """A report added without the outputs fails here: wire it with one tables function in
    `projections.tables.DESCRIBE` and `choose`/`present` in its command."""
    from cli.main import _command
    from projections.tables import DESCRIBE

    group = _command().commands["report"]
    reports = {name: cmd for name, cmd in group.commands.items() if name != "rebuild"}
    assert {"preferred", "warrants", "capital", "summary"} <= set(reports)
    for name, command in [*reports.items(), ("log", _command().commands["log"])]:
        options = {opt for param in command.params for opt in param.opts}
        assert {"--json", "--csv", "-o"} <= options, name
        assert name == "log" or name in DESCRIBE, name


def test_an_as_recorded_workbook_names_the_head_it_stood_at(ledger: Any, tmp_path: Path) -> None:
    entries = json.loads(ledger("log", "--json").out)
    target = tmp_path / "then.xlsx"
    r = ledger("report", "summary", "--as-recorded", "3", "-o", str(target))
    assert r.code == 0, r.err
    header = next(openpyxl.load_workbook(target)["capital"].iter_rows(values_only=True))
    assert header[3:7] == ("ledger head", entries[2]["hash"], "at position", 3)
    assert entries[-1]["position"] > 3
