"""`finledger report ...` through the CLI: options, JSON, the materialized read model."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date
from typing import Any

import pytest

SERIES = ["record", "series", "A", "--date", "2020-01-01", "--stated-value", "1000",
          "--conversion-price", "2.00", "--dividend-rate", "10", "--authorized", "100"]


def setup_ledger(fl: Any) -> None:
    for args in (
        SERIES,
        ["record", "closing", "A", "--date", "2020-01-01", "--investor", "X=30",
         "--investor", "Y=20", "--fees", "1500", "--ref", "C1"],
        ["record", "warrants", "--holder", "X", "--shares", "10000", "--exercise-price", "2.50",
         "--date", "2020-01-01", "--expires", "2021-01-01", "--ref", "W1", "--closing", "C1"],
        ["record", "exercise", "W1", "--shares", "3000", "--date", "2020-06-01"],
        ["record", "common-outstanding", "1000000", "--date", "2020-01-15"],
    ):
        r = fl(*args)
        assert r.code == 0, r.err


def report(fl: Any, *args: str) -> dict[str, Any]:
    r = fl("report", *args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)  # type: ignore[no-any-return]


def test_json_keys_follow_the_contract(fl: Any) -> None:
    setup_ledger(fl)
    pref = report(fl, "preferred", "--as-of", "2020-12-31")
    assert {"as_of", "series", "totals"} <= set(pref)
    assert {"series", "stated_value", "conversion_price", "authorized", "issued", "converted",
            "outstanding", "stated_value_outstanding", "accrued_dividends",
            "as_converted_common", "holders"} <= set(pref["series"][0])
    assert {"holder", "outstanding", "stated_value_outstanding", "accrued_dividends",
            "as_converted_common"} <= set(pref["series"][0]["holders"][0])
    # X: 30 x 1000 x 10% x 365/365 = 3,000.00; Y: 2,000.00 (2020-01-01 to 2020-12-31, 365 days)
    assert [h["accrued_dividends"] for h in pref["series"][0]["holders"]] == ["3000.00", "2000.00"]
    warr = report(fl, "warrants", "--as-of", "2020-12-31", "--market-price", "3")
    assert {"ref", "label", "holder", "issued_on", "expires", "exercise_price", "issued",
            "exercised", "expired", "outstanding", "potential_proceeds", "in_the_money",
            "treasury_shares"} <= set(warr["warrants"][0])
    assert set(warr["totals"]) >= {"outstanding", "potential_proceeds", "in_the_money",
                                   "treasury_shares"}
    assert {"exercise_price", "outstanding", "potential_proceeds"} <= set(warr["by_price"][0])
    cap = report(fl, "capital", "--as-of", "2020-12-31")
    assert {"as_of", "since", "entries", "periods", "totals"} <= set(cap)
    assert {"date", "source", "ref", "security", "gross", "fees", "net",
            "cumulative_gross"} <= set(cap["entries"][0])
    summary = report(fl, "summary", "--as-of", "2020-12-31")
    assert {"common_outstanding", "as_converted_preferred", "warrants",
            "total"} <= set(summary["fully_diluted"])
    assert summary["capital"] == {"gross": "57500.00", "fees": "1500.00", "net": "56000.00"}


def test_as_of_and_as_recorded(fl: Any) -> None:
    setup_ledger(fl)
    assert report(fl, "capital", "--as-of", "2020-05-31")["totals"]["gross"] == "50000.00"
    assert report(fl, "capital", "--as-of", "2020-06-01")["totals"]["gross"] == "57500.00"
    # Reverse the exercise: the current report drops it, the ledger as recorded at 5 had it.
    assert fl("record", "reversal", "4", "--reason", "entered in error").code == 0
    assert report(fl, "capital")["totals"]["gross"] == "50000.00"
    assert report(fl, "capital", "--as-recorded", "5")["totals"]["gross"] == "57500.00"
    assert report(fl, "capital", "--as-recorded", "2")["totals"]["gross"] == "50000.00"
    warr = report(fl, "warrants", "--as-recorded", "5", "--as-of", "2021-01-02")
    assert warr["warrants"][0]["expired"] == 7_000
    r = fl("report", "summary", "--as-recorded", "99")
    assert r.code == 1 and "no position 99" in r.err


def test_capital_since_and_by(fl: Any) -> None:
    setup_ledger(fl)
    cap = report(fl, "capital", "--since", "2020-02-01", "--by", "year")
    assert [e["ref"] for e in cap["entries"]] == ["W1"]
    assert cap["entries"][0]["cumulative_gross"] == "57500.00"
    assert cap["periods"] == [{"period": "2020", "gross": "7500.00", "fees": "0.00",
                               "net": "7500.00"}]
    assert cap["since"] == "2020-02-01"


@pytest.mark.parametrize("args", [
    ["warrants", "--market-price", "0"],
    ["warrants", "--market-price", "abc"],
    ["capital", "--by", "decade"],
    ["preferred", "--as-of", "2020-13-01"],
    ["summary", "--as-recorded", "0"],
])
def test_malformed_options_are_usage_errors(fl: Any, args: list[str]) -> None:
    setup_ledger(fl)
    r = fl("report", *args)
    assert r.code == 2, r.err
    assert r.err.count("\n") == 1


def test_missing_ledger_is_refused(tmp_path: Any) -> None:
    from tests.conftest import invoke

    r = invoke("--db", str(tmp_path / "none.db"), "report", "summary")
    assert r.code == 1 and r.err.startswith("Error: no ledger")


def test_table_output_is_plain_in_a_pipe(fl: Any) -> None:
    setup_ledger(fl)
    r = fl("report", "summary", "--as-of", "2020-12-31", env={"NO_COLOR": "1"})
    assert r.code == 0
    assert "Summary as of 2020-12-31" in r.out and "\x1b" not in r.out
    # 1,000,000 reported + 3,000 exercised since + 50 x 1,000 / 2.00 as converted + 7,000 overhang
    assert "1,035,000" in r.out


def rm(db: str, sql: str) -> list[tuple[Any, ...]]:
    """SQL on the store's read-model tables (SQLite file, or the PostgreSQL schema)."""
    if db.startswith("postgres"):
        from tests.pg import connect

        with connect(db) as pg:
            pg.execute(f"SET search_path TO {db.rsplit('schema=', 1)[1]}")
            cursor = pg.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []
    con = sqlite3.connect(db)
    try:
        rows = con.execute(sql).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def test_current_reports_read_the_materialized_tables(db: str, fl: Any) -> None:
    setup_ledger(fl)
    before = report(fl, "summary")
    assert rm(db, "SELECT value FROM rm_meta WHERE key = 'position'") == [("5",)]
    # Prove the current report reads the tables: change one, see it, then rebuild.
    rm(db, "UPDATE rm_capital SET gross = '1.00' WHERE ref = 'C1'")
    assert report(fl, "capital")["totals"]["gross"] == "7501.00"
    # The summary reads the running totals, not every capital row.
    rm(db, "UPDATE rm_totals SET capital_gross = '2.00'")
    assert report(fl, "summary")["capital"]["gross"] == "2.00"
    assert fl("report", "rebuild").code == 0
    assert report(fl, "summary") == before
    # A write is caught up before the next read.
    assert fl("record", "closing", "A", "--date", "2020-02-01", "--investor", "Z=5").code == 0
    assert report(fl, "summary")["capital"]["gross"] == "62500.00"
    assert rm(db, "SELECT value FROM rm_meta WHERE key = 'position'") == [("6",)]


def test_encrypted_ledger_keeps_no_plaintext_tables(db: str, fl: Any) -> None:
    key = fl("keygen").out.strip()
    env = {"FINLEDGER_KEY": key}
    assert fl(*SERIES, env=env).code == 0
    r = fl("report", "preferred", "--json", env=env)
    assert r.code == 0, r.err
    listing = ("SELECT table_name FROM information_schema.tables WHERE table_schema = "
               "current_schema()" if db.startswith("postgres")
               else "SELECT name FROM sqlite_master WHERE type='table'")
    tables = {name for (name,) in rm(db, listing)}
    assert "finledger_meta" in tables  # (the listing is of the store's tables)
    assert not any(t.startswith("rm_") for t in tables)


def test_current_summary_equals_the_summary_as_of_the_same_day(db: str, fl: Any) -> None:
    setup_ledger(fl)
    current = report(fl, "summary")  # the running totals and live rows
    assert current == report(fl, "summary", "--as-of", current["as_of"])
    # W1 (expired 2021-01-01) is out of the current overhang, in the expired count
    assert (current["warrants"]["expired"], current["warrants"]["outstanding"]) == (7_000, 0)


def test_audit_verify_compares_the_running_totals(db: str, fl: Any) -> None:
    setup_ledger(fl)
    report(fl, "summary")
    assert fl("audit", "verify").code == 0
    rm(db, "UPDATE rm_totals SET warrants_exercised = 1")
    r = fl("audit", "verify", "--json")
    assert r.code == 1
    assert [p["problem"] for p in json.loads(r.out)["problems"]] == [
        "rm_totals row 'ledger' differs: warrants_exercised is 1 in the table but 3000 by replay"]


def test_a_record_catches_up_only_the_new_event(db: str, fl: Any) -> None:
    setup_ledger(fl)
    report(fl, "summary")
    # A row no new event touches is not read back, so a damaged one stays as it is...
    rm(db, "UPDATE rm_capital SET gross = '1.00' WHERE ref = 'C1'")
    assert fl("record", "warrants", "--holder", "Z", "--shares", "5", "--exercise-price", "1",
              "--date", "2020-07-01").code == 0
    assert rm(db, "SELECT gross FROM rm_capital WHERE ref = 'C1'") == [("1.00",)]
    assert rm(db, "SELECT warrants_issued FROM rm_totals") == [(10_005,)]
    # ...until a rebuild applies everything from position zero again.
    assert fl("report", "rebuild").code == 0
    assert rm(db, "SELECT gross FROM rm_capital WHERE ref = 'C1'") == [("50000.00",)]



def plain_sqlite(db: str) -> None:
    if db.startswith("postgres"):
        pytest.skip("only a plain SQLite ledger is read without opening the store")


def test_current_summary_reads_a_caught_up_ledger_without_the_store(db: str, fl: Any) -> None:
    """`report summary` on a plain SQLite ledger whose tables are caught up reads them
    directly (no eventsourcing), and gives exactly what the full way gives."""
    from ledger.service import Ledger
    from projections.readmodel import current_summary, plain_summary
    from projections.reports import to_json

    plain_sqlite(db)
    setup_ledger(fl)
    on = date(2030, 1, 1)
    quick = plain_summary(db, lambda _latest: on)
    assert quick is not None
    with Ledger(db) as book:
        full = current_summary(book, lambda _latest: on)
    assert to_json(quick) == to_json(full)
    # Tables behind the head (as after a write whose catch-up lost a race): the quick way
    # declines and the full way catches up.
    rm(db, "UPDATE rm_meta SET value = '4' WHERE key = 'position'")
    assert plain_summary(db, lambda _latest: on) is None
    assert report(fl, "summary")["capital"]["gross"] == "57500.00"
    assert rm(db, "SELECT value FROM rm_meta WHERE key = 'position'") == [("5",)]
    assert to_json(plain_summary(db, lambda _latest: on)) == to_json(full)


def test_summary_without_the_store_loads_no_eventsourcing_nor_sqlite_utils(db: str, fl: Any) -> None:
    plain_sqlite(db)
    setup_ledger(fl)
    code = ("import sys\nfrom cli.main import run\ntry:\n    run(['--db', sys.argv[1], 'report', "
            "'summary', '--json'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('eventsourcing', 'sqlite_utils')))")
    out = subprocess.run([sys.executable, "-c", code, db], capture_output=True, text=True,
                         check=True).stdout
    assert out.splitlines()[-1] == "[]"
    assert json.loads("\n".join(out.splitlines()[:-1]))["capital"]["gross"] == "57500.00"


@pytest.mark.parametrize("damage", [
    "UPDATE finledger_meta SET value = '99' WHERE key = 'format_version'",
    "UPDATE finledger_meta SET value = '1' WHERE key = 'encrypted'",
    "DELETE FROM finledger_meta WHERE key = 'head_position'",
    "DROP TABLE rm_meta",
])
def test_the_quick_summary_declines_what_needs_the_store(db: str, fl: Any, damage: str) -> None:
    from projections.readmodel import plain_summary

    plain_sqlite(db)
    setup_ledger(fl)
    rm(db, damage)
    assert plain_summary(db, lambda _latest: date(2030, 1, 1)) is None


def test_the_quick_summary_declines_what_is_not_a_ledger(tmp_path: Any) -> None:
    from projections.readmodel import plain_summary

    def judge(_latest: Any) -> date:
        return date(2030, 1, 1)

    assert plain_summary(str(tmp_path / "absent.db"), judge) is None
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    assert plain_summary(str(text), judge) is None
    other = tmp_path / "other.db"
    rm(str(other), "CREATE TABLE t (x)")
    assert plain_summary(str(other), judge) is None
