"""Terms that change (DOMAIN.md 12-14): splits, price-based anti-dilution, adjustments by hand,
and their history (`report terms`), with every figure worked out by hand in the comments.

The ledger is the May 2003 Series D financing (DOMAIN.md): 444 shares of $10,000 stated value
converting at $2.35, split SCO 150 / SDS 100 / Xmark 100 / ProMed 94 (assumed), a warrant of
944,681 at $3.00, and 3,108,100 common outstanding. Accrued dividends are assumed not to
convert (`--no-convert-accrued`), so a conversion's common is stated value / price alone.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import invoke

SERIES_D = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
            "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "600",
            "--par-value", "0.001", "--no-convert-accrued"]
CLOSING_D1 = ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
              "--investor", "SCO Capital Partners=150", "--investor", "SDS Merchant Fund=100",
              "--investor", "Xmark Funds=100", "--investor", "ProMed Partners, L.P.=94"]
WARRANT = ["record", "warrants", "--holder", "SCO Capital Partners", "--shares", "944681",
           "--exercise-price", "3.00", "--date", "2003-05-08", "--closing", "D-1",
           "--ref", "W-300"]  # its expiry is not public: none assumed
BASELINE = ["record", "common-outstanding", "3108100", "--date", "2003-05-09"]
SPLIT = ["record", "split", "--new", "1", "--old", "25", "--date", "2003-06-02"]


def ok(fl: Any, *args: str) -> str:
    r = fl(*args)
    assert r.code == 0, (args, r.err)
    return str(r.out)


def refused(fl: Any, *args: str) -> str:
    r = fl(*args)
    assert r.code == 1, (args, r.out, r.err)
    assert r.err.startswith("Error: ") and r.err.count("\n") == 1, r.err
    return str(r.err)


def report(fl: Any, name: str, *args: str) -> Any:
    return json.loads(ok(fl, "report", name, "--json", *args))


def series_d(fl: Any, *protection: str, warrant: tuple[str, ...] = ()) -> None:
    ok(fl, *SERIES_D, *protection)
    ok(fl, *CLOSING_D1)
    ok(fl, *WARRANT, *warrant)
    ok(fl, *BASELINE)


def fully_diluted(fl: Any, on: str) -> dict[str, int]:
    return report(fl, "summary", "--as-of", on)["fully_diluted"]  # type: ignore[no-any-return]


# --- DOMAIN.md 12: a 1-for-25 reverse split ----------------------------------------------------


def test_a_reverse_split_reprices_the_series_and_the_warrant_and_rebases_the_common(
    fl: Any,
) -> None:
    series_d(fl)
    # Before: as-converted at 2.35, floor per holder: SCO 1,500,000 / 2.35 = 638,297.87 ->
    # 638,297; SDS and Xmark 1,000,000 / 2.35 = 425,531.91 -> 425,531 each; ProMed
    # 940,000 / 2.35 = 400,000. Sum 1,889,359. Fully diluted 3,108,100 + 1,889,359 + 944,681.
    assert fully_diluted(fl, "2003-06-01") == {
        "baseline": 3_108_100, "baseline_date": "2003-05-09", "issued_since_baseline": 0,
        "common_outstanding": 3_108_100, "as_converted_preferred": 1_889_359,
        "warrants": 944_681, "total": 5_942_140}
    out = ok(fl, *SPLIT)
    assert out.splitlines()[1:] == [
        "  split 1-for-25: common outstanding 3,108,100 -> 124,324 (the new baseline)",
        "  series Series D conversion price 2.35 -> 58.75",
        "  warrant W-300 exercise price 3.00 -> 75.00, shares 944,681 -> 37,787",
    ]
    # After: 2.35 x 25 = 58.75; 944,681 / 25 = 37,787.24 -> 37,787 at 3.00 x 25 = 75.00;
    # 3,108,100 / 25 = 124,324. As-converted at 58.75: SCO 1,500,000 / 58.75 = 25,531.91 ->
    # 25,531; SDS and Xmark 17,021.28 -> 17,021 each; ProMed 940,000 / 58.75 = 16,000.
    # Sum 75,573. Fully diluted 124,324 + 75,573 + 37,787 = 237,684.
    assert fully_diluted(fl, "2003-06-02") == {
        "baseline": 124_324, "baseline_date": "2003-06-02", "issued_since_baseline": 0,
        "common_outstanding": 124_324, "as_converted_preferred": 75_573,
        "warrants": 37_787, "total": 237_684}
    # The day before, nothing changed.
    assert fully_diluted(fl, "2003-06-01")["total"] == 5_942_140
    warrants = report(fl, "warrants", "--as-of", "2003-06-02", "--market-price", "100")
    row = warrants["warrants"][0]
    assert (row["exercise_price"], row["issued"], row["adjusted"], row["outstanding"]) == (
        "75.00", 944_681, 37_787 - 944_681, 37_787)
    assert row["outstanding"] == row["issued"] - row["exercised"] - row["expired"] + \
        row["adjusted"]
    # potential proceeds 37,787 x 75 = 2,834,025.00; treasury shares at 100:
    # floor(37,787 x 25 / 100) = floor(9,446.75) = 9,446
    assert (row["potential_proceeds"], row["treasury_shares"]) == ("2834025.00", 9_446)
    assert warrants["totals"]["adjusted"] == 37_787 - 944_681
    preferred = report(fl, "preferred", "--as-of", "2003-06-02")
    assert preferred["series"][0]["conversion_price"] == "58.75"

    # A conversion after the split uses 58.75: 20 x 10,000 = 200,000; 200,000 / 58.75 =
    # 3,404.25 -> 3,404 common, cash in lieu 200,000 - 3,404 x 58.75 = 15.00.
    ok(fl, "record", "conversion", "Series D", "--holder", "SCO Capital Partners",
       "--shares", "20", "--date", "2003-09-02")
    conversion = json.loads(ok(fl, "log", "--json", "--type", "ConversionRequested"))[0]
    assert (conversion["data"]["common_shares"], conversion["data"]["cash_in_lieu"]) == (
        3_404, "15.00")
    # An exercise after it pays 75.00 a share: 1,000 x 75 = 75,000.00.
    ok(fl, "record", "exercise", "W-300", "--shares", "1000", "--date", "2003-10-01")
    exercise = json.loads(ok(fl, "log", "--json", "--type", "WarrantsExercised"))[0]
    assert exercise["data"]["proceeds"] == "75000.00"
    terms = report(fl, "terms")
    assert [(h["cause"], h["price"]) for h in terms["series"][0]["history"]] == [
        ("designated", "2.35"), ("split", "58.75")]
    assert [(h["cause"], h["price"], h["adjusted"]) for h in terms["warrants"][0]["history"]] \
        == [("issued", "3.00", 0), ("split", "75.00", 37_787 - 944_681)]
    assert terms["warrants"][0]["outstanding"] == 37_787 - 1_000
    before = report(fl, "terms", "--as-of", "2003-06-01")
    assert (before["series"][0]["conversion_price"], before["warrants"][0]["exercise_price"]) \
        == ("2.35", "3.00")
    steps = json.loads(ok(fl, "audit", "replay", "--json"))
    assert [(s["type"], s["warrants_outstanding"]) for s in steps[-3:]] == [
        ("StockSplit", 37_787), ("ConversionRequested", 37_787),
        ("WarrantsExercised", 36_787)]
    assert json.loads(ok(fl, "audit", "verify", "--json"))["ok"] is True


def test_a_split_back_dated_before_a_conversion_it_would_change_is_refused(fl: Any) -> None:
    series_d(fl)
    ok(fl, "record", "conversion", "Series D", "--holder", "SCO Capital Partners",
       "--shares", "20", "--date", "2003-09-02")
    err = refused(fl, *SPLIT)
    assert "the later ConversionRequested at position 5 (2003-09-02)" in err
    assert "common shares would be 3,404, not the 85,106 it stores" in err
    # after the conversion, the split is accepted
    ok(fl, "record", "split", "--new", "1", "--old", "25", "--date", "2003-09-03")


# --- DOMAIN.md 13: price-based anti-dilution ---------------------------------------------------


def test_a_full_ratchet_reset_by_a_common_closing_at_150(fl: Any) -> None:
    series_d(fl, "--anti-dilution", "full-ratchet",
             warrant=("--anti-dilution", "full-ratchet"))
    out = ok(fl, "record", "closing", "common", "--date", "2003-08-01", "--price-per-share",
             "1.50", "--investor", "New Fund=1000000", "--ref", "C-1")
    # The series: 2.35 -> 1.50. The warrant: 3.00 -> 1.50, and floor(944,681 x 3.00 / 1.50) =
    # 1,889,362 shares: its aggregate exercise price 944,681 x 3.00 = 2,834,043.00 =
    # 1,889,362 x 1.50 stays the same.
    assert out.splitlines()[1:] == [
        "  anti-dilution (full-ratchet): series Series D conversion price 2.35 -> 1.50",
        "  anti-dilution (full-ratchet): warrant W-300 exercise price 3.00 -> 1.50, "
        "shares 944,681 -> 1,889,362",
    ]
    warrants = report(fl, "warrants", "--as-of", "2003-08-01")
    row = warrants["warrants"][0]
    assert (row["outstanding"], row["adjusted"], row["potential_proceeds"]) == (
        1_889_362, 944_681, "2834043.00")
    # As-converted at 1.50: SCO 1,000,000; SDS and Xmark 666,666 each; ProMed 626,666.
    pref = report(fl, "preferred", "--as-of", "2003-08-01")
    assert pref["totals"]["as_converted_common"] == 1_000_000 + 666_666 * 2 + 626_666
    closing = json.loads(ok(fl, "log", "--json", "--type", "ClosingCompleted"))[-1]["data"]
    assert closing["adjustments"][1] == {
        "instrument": "warrant", "name": "W-300", "method": "full-ratchet",
        "old_price": "3.00", "new_price": "1.50", "old_shares": 944_681,
        "new_shares": 1_889_362, "a": None, "b": None, "c": None}
    # A later conversion at 1.50: 20 x 10,000 / 1.50 = 133,333.33 -> 133,333, cash 0.50.
    ok(fl, "record", "conversion", "Series D", "--holder", "SCO Capital Partners",
       "--shares", "20", "--date", "2003-09-02")
    conversion = json.loads(ok(fl, "log", "--json", "--type", "ConversionRequested"))[0]
    assert (conversion["data"]["common_shares"], conversion["data"]["cash_in_lieu"]) == (
        133_333, "0.50")
    # The closing that set 1.50 cannot be reversed while that conversion stands.
    err = refused(fl, "record", "reversal", "5", "--reason", "never funded")
    assert "the later ConversionRequested at position 6" in err
    ok(fl, "record", "reversal", "6", "--reason", "entered in error")
    ok(fl, "record", "reversal", "5", "--reason", "never funded")
    assert report(fl, "terms")["series"][0]["conversion_price"] == "2.35"
    assert json.loads(ok(fl, "audit", "verify", "--json"))["ok"] is True


def test_a_weighted_average_reset_with_a_b_and_c_by_hand(fl: Any) -> None:
    series_d(fl, "--anti-dilution", "weighted-average",
             warrant=("--anti-dilution", "weighted-average"))
    # A: fully diluted just before the closing: 3,108,100 + 1,889,359 + 944,681 = 5,942,140
    # (report summary on the day). C: the 1,000,000 common it issues; gross 1,500,000.00.
    assert fully_diluted(fl, "2003-08-01")["total"] == 5_942_140
    out = ok(fl, "record", "closing", "common", "--date", "2003-08-01", "--price-per-share",
             "1.50", "--investor", "New Fund=1000000", "--ref", "C-1")
    # Series: B = 1,500,000 / 2.35 = 638,297.8723...; new = 2.35 x (A + B) / (A + C) =
    # (2.35 x 5,942,140 + 1,500,000) / 6,942,140 = 15,464,029 / 6,942,140 = 2.227559... ->
    # 2.2276. Warrant: B = 1,500,000 / 3.00 = 500,000; new = (3.00 x 5,942,140 +
    # 1,500,000) / 6,942,140 = 19,326,420 / 6,942,140 = 2.783928... -> 2.7839; shares
    # floor(944,681 x 3.00 / 2.7839) = floor(1,018,011.78) = 1,018,011.
    assert out.splitlines()[1:] == [
        "  anti-dilution (weighted-average): series Series D conversion price 2.35 -> 2.2276 "
        "(A = 5,942,140, B = 638297.8723, C = 1,000,000)",
        "  anti-dilution (weighted-average): warrant W-300 exercise price 3.00 -> 2.7839, "
        "shares 944,681 -> 1,018,011 (A = 5,942,140, B = 500000.0000, C = 1,000,000)",
    ]
    row = report(fl, "warrants")["warrants"][0]
    # 1,018,011 x 2.7839 = 2,834,040.82 (never more than 944,681 x 3.00 = 2,834,043.00)
    assert (row["exercise_price"], row["outstanding"], row["potential_proceeds"]) == (
        "2.7839", 1_018_011, "2834040.82")
    terms = report(fl, "terms")
    assert terms["series"][0]["history"][-1] == {
        "effective_date": "2003-08-01", "position": 5, "price": "2.2276",
        "cause": "anti-dilution"}


def test_a_price_floor_limits_or_stops_a_reset(fl: Any) -> None:
    series_d(fl, "--anti-dilution", "full-ratchet", "--price-floor", "2.00",
             warrant=("--anti-dilution", "full-ratchet", "--price-floor", "3.00"))
    out = ok(fl, "record", "closing", "common", "--date", "2003-08-01", "--price-per-share",
             "1.50", "--investor", "New Fund=1000000")
    # The series stops at its floor 2.00; the warrant's floor 3.00 is its price: no reset.
    assert out.splitlines()[1:] == [
        "  anti-dilution (full-ratchet): series Series D conversion price 2.35 -> 2.00"]
    terms = report(fl, "terms")
    assert (terms["series"][0]["conversion_price"], terms["warrants"][0]["exercise_price"],
            terms["warrants"][0]["outstanding"]) == ("2.00", "3.00", 944_681)
    assert refused(fl, "record", "series", "B", "--date", "2003-05-08", "--stated-value", "1",
                   "--conversion-price", "1", "--dividend-rate", "0", "--authorized", "1",
                   "--price-floor", "0.5").startswith("Error: --price-floor bounds")


def test_an_exempt_closing_and_one_at_or_above_the_price_change_nothing(fl: Any) -> None:
    series_d(fl, "--anti-dilution", "full-ratchet",
             warrant=("--anti-dilution", "weighted-average"))
    before = report(fl, "terms", "--as-of", "2003-07-31")
    out = ok(fl, "record", "closing", "common", "--date", "2003-08-01", "--price-per-share",
             "1.50", "--investor", "New Fund=1000000", "--exempt")
    assert len(out.splitlines()) == 1
    ok(fl, "record", "closing", "common", "--date", "2003-08-02", "--price-per-share",
       "3.00", "--investor", "Other Fund=1000")
    after = report(fl, "terms")
    assert (after["series"], after["warrants"]) == (before["series"], before["warrants"])
    assert fully_diluted(fl, "2003-08-02")["common_outstanding"] == 3_108_100 + 1_001_000
    assert refused(fl, "record", "closing", "Series D", "--date", "2003-08-03",
                   "--investor", "X=1", "--exempt").startswith("Error: --exempt is for")


def test_a_dilutive_closing_back_dated_before_a_conversion_is_refused(fl: Any) -> None:
    series_d(fl, "--anti-dilution", "full-ratchet")
    ok(fl, "record", "conversion", "Series D", "--holder", "SCO Capital Partners",
       "--shares", "20", "--date", "2003-09-02")
    err = refused(fl, "record", "closing", "common", "--date", "2003-08-01",
                  "--price-per-share", "1.50", "--investor", "New Fund=1000000")
    assert "the later ConversionRequested at position 5 (2003-09-02)" in err
    # an exempt one changes no price: accepted
    ok(fl, "record", "closing", "common", "--date", "2003-08-01", "--price-per-share", "1.50",
       "--investor", "New Fund=1000000", "--exempt")


# --- DOMAIN.md 14: adjustments by hand -----------------------------------------------------------


def test_adjustments_by_hand_store_old_and_new(fl: Any) -> None:
    series_d(fl)
    out = ok(fl, "record", "adjustment", "--series", "Series D", "--conversion-price", "2.00",
             "--date", "2004-01-05", "--reason", "board resolution of 2003-12-20")
    assert out.splitlines()[1] == "  series Series D conversion price 2.35 -> 2.00"
    out = ok(fl, "record", "adjustment", "--warrant", "W-300", "--exercise-price", "2.50",
             "--shares", "1133617", "--date", "2004-01-05", "--reason", "repricing")
    assert out.splitlines()[1] == \
        "  warrant W-300 exercise price 3.00 -> 2.50, shares 944,681 -> 1,133,617"
    data = json.loads(ok(fl, "log", "--json", "--type", "TermsAdjusted"))[1]["data"]
    assert data == {"series": None, "warrant": "W-300", "old_price": "3.00",
                    "new_price": "2.50", "old_shares": 944_681, "new_shares": 1_133_617,
                    "reason": "repricing"}
    row = report(fl, "warrants")["warrants"][0]
    assert (row["adjusted"], row["outstanding"]) == (1_133_617 - 944_681, 1_133_617)
    causes = [h["cause"] for h in report(fl, "terms")["series"][0]["history"]]
    assert causes == ["designated", "adjustment"]
    assert "give one of them" in refused(
        fl, "record", "adjustment", "--series", "Series D", "--warrant", "W-300",
        "--conversion-price", "2", "--date", "2004-02-01", "--reason", "x")
    assert "already converts at 2.00" in refused(
        fl, "record", "adjustment", "--series", "Series D", "--conversion-price", "2.00",
        "--date", "2004-02-01", "--reason", "x")
    assert "a reason" in refused(
        fl, "record", "adjustment", "--series", "Series D", "--conversion-price", "1.90",
        "--date", "2004-02-01", "--reason", " ")


# --- every path of the ledger carries them -------------------------------------------------------


def _terms_ledger(fl: Any) -> None:
    series_d(fl, "--anti-dilution", "weighted-average",
             warrant=("--anti-dilution", "full-ratchet"))
    ok(fl, "record", "closing", "common", "--date", "2003-08-01", "--price-per-share", "1.50",
       "--investor", "New Fund=1000000")
    ok(fl, "record", "adjustment", "--warrant", "W-300", "--exercise-price", "1.40",
       "--date", "2003-09-01", "--reason", "board")
    ok(fl, *[*SPLIT[:-1], "2003-10-01"])


def test_export_then_import_reproduces_the_terms(fl: Any, tmp_path: Path) -> None:
    _terms_ledger(fl)
    exported = tmp_path / "out.jsonl"
    ok(fl, "export", "-o", str(exported))
    copy = str(tmp_path / "copy.db")
    r = invoke("--db", copy, "import", str(exported))
    assert r.code == 0, r.err
    for name in ("terms", "warrants", "summary", "preferred"):
        assert json.loads(invoke("--db", copy, "report", name, "--json").out) == \
            report(fl, name)
    assert json.loads(invoke("--db", copy, "audit", "verify", "--json").out)["ok"] is True


def test_an_encrypted_ledger_records_and_verifies_them(tmp_path: Path) -> None:
    key = invoke("keygen").out.strip()
    db = str(tmp_path / "secret.db")

    def fl(*args: str) -> Any:
        return invoke("--db", db, *args, env={"FINLEDGER_KEY": key})

    _terms_ledger(fl)
    # 2.2276 (the weighted-average reset, as in the test above) x 25 = 55.69
    assert report(fl, "terms")["series"][0]["conversion_price"] == "55.69"
    assert json.loads(ok(fl, "audit", "verify", "--json"))["ok"] is True


def test_the_read_model_equals_a_fresh_replay(fl: Any) -> None:
    _terms_ledger(fl)
    for name in ("terms", "warrants", "summary", "preferred"):
        current = report(fl, name)  # the read model's tables (a replay on PostgreSQL)
        assert report(fl, name, "--as-of", current["as_of"]) == current  # a replay


def test_an_old_ledger_without_the_new_fields_still_reads_and_verifies(tmp_path: Path) -> None:
    """Events stored before anti-dilution existed have no `anti_dilution`, `price_floor`,
    `exempt` or `adjustments`: they read with the defaults, and their hashes still hold."""
    db = str(tmp_path / "old.db")

    def fl(*args: str) -> Any:
        return invoke("--db", db, *args)

    series_d(fl)
    ok(fl, "record", "closing", "common", "--date", "2003-08-01", "--price-per-share", "1.50",
       "--investor", "New Fund=1000")
    con = sqlite3.connect(db)
    with con:
        rows = con.execute("SELECT rowid, state FROM stored_events").fetchall()
        for rowid, state in rows:
            data = json.loads(state)
            for name in ("anti_dilution", "price_floor", "exempt", "adjustments"):
                data.pop(name, None)
            con.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                        [json.dumps(data, separators=(",", ":")).encode(), rowid])
        con.execute("DROP TABLE IF EXISTS rm_meta")  # the reports replay the old rows
    con.close()
    assert json.loads(ok(fl, "audit", "verify", "--json"))["ok"] is True
    terms = report(fl, "terms")
    assert terms["series"][0]["anti_dilution"] == "none"
    assert "exempt" not in json.loads(ok(fl, "log", "--json", "--type", "ClosingCompleted"))[1][
        "data"]


@pytest.mark.parametrize("args", [
    ["--new", "1", "--old", "1"], ["--new", "0", "--old", "25"], ["--new", "1.5", "--old", "2"],
])
def test_a_split_that_makes_no_sense_is_refused(fl: Any, args: list[str]) -> None:
    series_d(fl)
    r = fl("record", "split", *args, "--date", "2003-06-02")
    assert r.code in (1, 2) and r.err.startswith("Error: ") and "Traceback" not in r.err
    assert len(json.loads(ok(fl, "log", "--json"))) == 4


def test_eps_counts_with_the_prices_in_force(fl: Any) -> None:
    series_d(fl)
    ok(fl, *SPLIT)
    # The fourth quarter of 2003, wholly after the split: common 124,324 every day; the
    # warrant's treasury shares at an average $100: floor(37,787 x (100 - 75) / 100) =
    # floor(9,446.75) = 9,446; the series' as-converted common at 58.75: 75,573.
    eps = report(fl, "eps", "--from", "2003-10-01", "--to", "2003-12-31", "--net-income",
                 "1500000", "--average-price", "100")
    assert eps["weighted_average_common"] == 124_324
    candidates = {c["security"]: c["incremental_shares"]
                  for c in [*eps["dilutive"], *eps["anti_dilutive"]]}
    assert candidates == {"W-300": 9_446, "Series D": 75_573}


def test_the_terms_report_writes_csv_and_a_workbook(fl: Any, tmp_path: Path) -> None:
    series_d(fl)
    ok(fl, *SPLIT)
    csv = ok(fl, "report", "terms", "--as-of", "2003-06-02", "--csv").split("\n\n")
    assert csv[0].splitlines() == ["series,conversion_price,anti_dilution,price_floor",
                                   "Series D,58.75,none,"]
    assert csv[2].splitlines()[1:] == [
        "series,Series D,2003-05-08,1,designated,2.35,",
        "series,Series D,2003-06-02,5,split,58.75,",
        "warrant,W-300,2003-05-08,3,issued,3.00,0",
        "warrant,W-300,2003-06-02,5,split,75.00,-906894",
    ]
    book = tmp_path / "terms.xlsx"
    ok(fl, "report", "terms", "-o", str(book))
    assert book.stat().st_size > 0


def test_a_snapshot_carries_the_prices_and_the_protected_warrants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Recorded on the head state loaded from snapshots (every 2 events), the terms come out
    as on a ledger decided by full replays."""
    outcomes = []
    for name, interval in (("snap", 2), ("plain", 10_000)):
        monkeypatch.setattr("ledger.service.SNAPSHOT_INTERVAL", interval)
        db = str(tmp_path / f"{name}.db")

        def fl(*args: str, db: str = db) -> Any:
            return invoke("--db", db, *args)

        series_d(fl, "--anti-dilution", "weighted-average",
                 warrant=("--anti-dilution", "full-ratchet"))
        ok(fl, *SPLIT)
        ok(fl, "record", "closing", "common", "--date", "2003-08-01", "--price-per-share",
           "20", "--investor", "New Fund=10000")
        ok(fl, "record", "conversion", "Series D", "--holder", "Xmark Funds", "--shares", "5",
           "--date", "2003-09-02")
        outcomes.append([entry["data"] for entry in json.loads(ok(fl, "log", "--json"))])
        assert json.loads(ok(fl, "audit", "verify", "--json"))["ok"] is True
    assert outcomes[0] == outcomes[1]
    closing = outcomes[0][5]
    # A = 237,684 after the split (the test above); (58.75 x 237,684 + 200,000) / 247,684 =
    # 14,163,935 / 247,684 = 57.18552... -> 57.1855; the warrant ratchets to 20.00.
    assert [(a["name"], a["new_price"]) for a in closing["adjustments"]] == [
        ("Series D", "57.1855"), ("W-300", "20.00")]
