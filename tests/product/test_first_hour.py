"""What a new user hits in the first hour (issue 17): options that do nothing, a future-dated
typo, the wording of messages, and `audit verify --expect-head` with a noted prefix."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import invoke

SERIES = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
          "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"]
CLOSING = ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
           "--investor", "SCO Capital Partners=150", "--investor", "SDS Merchant Fund=100"]
WARRANT = ["record", "warrants", "--holder", "SCO Capital Partners", "--shares", "944681",
           "--exercise-price", "3.00", "--date", "2003-05-08", "--ref", "W-1"]


def ok(fl: Any, *args: str) -> Any:
    r = fl(*args)
    assert r.code == 0, r.err
    return r


def count(fl: Any) -> int:
    return len(json.loads(ok(fl, "log", "--json").out))


def refused(fl: Any, *args: str, code: int = 1) -> str:
    before = count(fl)
    r = fl(*args)
    assert r.code == code, (r.out, r.err)
    assert r.err.startswith("Error: ") and r.err.count("\n") == 1, r.err
    assert count(fl) == before
    return str(r.err)


# --- options that do nothing are refused ------------------------------------------------------


def test_a_cash_dividend_with_a_price_is_refused(fl: Any) -> None:
    ok(fl, *SERIES)
    ok(fl, *CLOSING)
    message = refused(fl, "record", "dividend", "Series D", "--through", "2003-06-30",
                      "--date", "2003-07-01", "--form", "cash", "--price", "4")
    assert "--price" in message and "cash dividend takes none" in message
    ok(fl, "record", "dividend", "Series D", "--through", "2003-06-30", "--date", "2003-07-01",
       "--form", "cash")


def test_a_cash_exercise_with_a_market_price_is_refused(fl: Any) -> None:
    ok(fl, *WARRANT)
    message = refused(fl, "record", "exercise", "W-1", "--shares", "100", "--date",
                      "2004-01-15", "--market-price", "4.10")
    assert "--market-price is only for a cashless exercise" in message
    event = json.loads(ok(fl, "record", "exercise", "W-1", "--shares", "100", "--date",
                          "2004-01-15", "--json").out)
    assert event["data"]["market_price"] is None and event["data"]["proceeds"] == "300.00"


# --- a future-dated typo ---------------------------------------------------------------------


def test_a_date_after_today_is_recorded_with_a_warning(fl: Any) -> None:
    future = (datetime.now(UTC).date() + timedelta(days=400)).isoformat()
    r = fl("record", "series", "Series X", "--date", future, "--stated-value", "100",
           "--conversion-price", "1", "--dividend-rate", "8", "--authorized", "10")
    assert r.code == 0 and r.out.startswith("Recorded SeriesDesignated at position 1")
    assert r.err.startswith("Warning: ") and r.err.count("\n") == 1
    assert f"the effective date {future} is after today" in r.err
    assert "record reversal 1" in r.err
    assert count(fl) == 1
    past = ok(fl, *SERIES)
    assert past.err == ""


# --- messages ---------------------------------------------------------------------------------


def test_counts_agree_with_their_nouns(fl: Any, tmp_path: Path) -> None:
    ok(fl, *SERIES)
    assert ok(fl, "audit", "verify").out.startswith("OK: 1 event; head 1 ")
    export = tmp_path / "one.jsonl"
    r = ok(fl, "export", "-o", str(export))
    assert r.err.strip() == f"Exported 1 event to {export}"
    r = invoke("--db", str(tmp_path / "copy.db"), "import", str(export))
    assert r.code == 0 and r.out.strip() == "Imported 1 event at position 1"
    r = invoke("--db", str(tmp_path / "copy.db"), "import", str(export))
    assert r.code == 1  # the series exists already
    two = tmp_path / "two.jsonl"
    ok(fl, *CLOSING)
    ok(fl, "export", "-o", str(two))
    r = invoke("--db", str(tmp_path / "third.db"), "import", str(two))
    assert r.out.strip() == "Imported 2 events at positions 1 to 2"


def test_an_empty_reason_is_asked_for_as_a_reason(fl: Any) -> None:
    ok(fl, *SERIES)
    message = refused(fl, "record", "reversal", "1", "--reason", "  ")
    assert "give a reason" in message and "name" not in message


def test_the_back_dating_refusal_names_no_position_that_does_not_exist(fl: Any) -> None:
    ok(fl, *SERIES)
    ok(fl, *CLOSING)
    ok(fl, "record", "conversion", "Series D", "--holder", "SCO Capital Partners",
       "--shares", "20", "--date", "2003-09-02")
    message = refused(fl, "record", "dividend", "Series D", "--through", "2003-06-30",
                      "--date", "2003-07-01", "--form", "cash")
    assert "ConversionRequested at position 3" in message
    assert "position 4" not in message  # the dividend is not recorded: it has no position
    assert "date that dividend on or after 2003-09-02" in message
    # ... and on that date it is accepted, as the message says.
    ok(fl, "record", "dividend", "Series D", "--through", "2003-06-30", "--date", "2003-09-02",
       "--form", "cash")


def test_an_import_refusal_names_the_one_field_that_differs(fl: Any, tmp_path: Path) -> None:
    ok(fl, *SERIES)
    ok(fl, *CLOSING)
    ok(fl, "record", "dividend", "Series D", "--through", "2003-06-30", "--date", "2003-07-01",
       "--form", "cash")
    export = tmp_path / "x.jsonl"
    ok(fl, "export", "-o", str(export))
    entries = [json.loads(line) for line in export.read_text().splitlines()]
    payments = entries[2]["data"]["payments"]
    right = payments[1]["amount"]
    payments[1]["amount"] = "1.00"
    export.write_text("".join(json.dumps(e) + "\n" for e in entries))
    r = invoke("--db", str(tmp_path / "copy.db"), "import", str(export))
    assert r.code == 1
    assert f'the file says payments[1].amount = "1.00", but recording it computes "{right}"' \
        in r.err
    assert "holder" not in r.err and "SCO" not in r.err


def test_stated_value_prints_in_one_format_however_it_was_typed(tmp_path: Path) -> None:
    captions = []
    for typed in ("10000", "10000.00", "10000.0"):
        target = str(tmp_path / f"{typed}.db")
        args = list(SERIES)
        args[args.index("10000")] = typed
        assert invoke("--db", target, *args).code == 0
        assert invoke("--db", target, *CLOSING).code == 0
        report = invoke("--db", target, "report", "preferred", "--as-of", "2003-05-08").out
        log = invoke("--db", target, "log").out
        assert "$10,000.00" in report and "stated 10,000.00" in log
        captions.append(report)
    assert captions[0] == captions[1] == captions[2]


# --- audit verify --expect-head with the prefix an auditor noted --------------------------------


def test_expect_head_accepts_a_prefix_of_eight_or_more_hex_digits(fl: Any) -> None:
    ok(fl, *SERIES)
    ok(fl, *CLOSING)
    head = json.loads(ok(fl, "audit", "verify", "--json").out)["head_hash"]
    first = json.loads(ok(fl, "log", "--json").out)[0]["hash"]
    for given in (head, head[:8], head[:20].upper(), f"{head[:12]}..."):
        r = fl("audit", "verify", "--expect-head", given)
        assert r.code == 0 and r.out.startswith("OK: 2 events"), (given, r.err)
    # A prefix of an earlier head: the ledger grew after it (not a rewrite).
    r = fl("audit", "verify", "--expect-head", first[:8])
    assert r.code == 1 and "the expected head is position 1, but 1 event was recorded" in r.err
    assert "rewritten" not in r.err
    # A prefix that is no head of this chain is a rewrite.
    other = "0123abcd" if not head.startswith("0123abcd") else "fedc9876"
    r = fl("audit", "verify", "--expect-head", other)
    assert r.code == 1 and "rewritten" in r.err


def test_expect_head_that_is_too_short_or_not_hex_is_a_malformed_option(fl: Any) -> None:
    ok(fl, *SERIES)
    head = json.loads(ok(fl, "audit", "verify", "--json").out)["head_hash"]
    for given, says in ((head[:7], "at least 8 hex digits"), ("not-a-hash", "not a head hash"),
                        (head + "0", "longer than a head hash")):
        r = fl("audit", "verify", "--expect-head", given)
        assert r.code == 2, (given, r.out, r.err)
        assert r.err.startswith("Error: ") and says in r.err and "rewritten" not in r.err


def test_an_ambiguous_prefix_is_a_malformed_option() -> None:
    import pytest

    from ledger.audit import ChainCheck, head_matches
    from ledger.errors import MalformedOption

    assert head_matches("abcdef12", "abcdef12" + "0" * 56)
    assert not head_matches("abcdef12", None) and not head_matches("", "abc")

    check = ChainCheck(None, "abcdef12")
    check.last_is_event = True
    check.wanted_at, check._wanted_also = 1, 2  # two hashes start with the prefix
    with pytest.raises(MalformedOption, match="positions 1 and 2; give more of its digits"):
        check.expected_head_problems()


# --- titles say what the report is -------------------------------------------------------------


def test_as_recorded_reports_say_so_in_their_titles(fl: Any) -> None:
    ok(fl, *SERIES)
    ok(fl, *CLOSING)
    ok(fl, *WARRANT)
    for report, title in (("preferred", "Outstanding preferred"), ("warrants", "Warrant overhang"),
                          ("capital", "Capital raised"), ("summary", "Summary")):
        text = ok(fl, "report", report, "--as-recorded", "2", "--as-of", "2003-06-30").out
        assert f"{title} as of 2003-06-30, as recorded at position 2" in text, text
        plain = ok(fl, "report", report, "--as-of", "2003-06-30").out
        assert "as recorded" not in plain
        current = ok(fl, "report", report, "--as-recorded", "3").out
        assert f"{title} as of {datetime.now(UTC).date()}, as recorded at position 3" in current


def test_a_title_says_when_its_date_is_the_latest_effective_date_not_today(fl: Any) -> None:
    ok(fl, *SERIES)
    future = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    ok(fl, "record", "closing", "Series D", "--date", future, "--investor", "A=10")
    today = datetime.now(UTC).date().isoformat()
    for report in ("preferred", "warrants", "capital", "summary"):
        text = ok(fl, "report", report).out
        assert f"as of {future} (the latest effective date; today is {today})" in text, text
        assert "latest effective date" not in ok(fl, "report", report, "--as-of", future).out
        assert json.loads(ok(fl, "report", report, "--json").out)["as_of"] == future


def test_a_replay_title_says_where_it_stops(fl: Any) -> None:
    ok(fl, *SERIES)
    ok(fl, *CLOSING)
    assert "as recorded at position 1" in ok(fl, "audit", "replay", "--to", "1").out
    assert "through 2003-05-08" in ok(fl, "audit", "replay", "--until", "2003-05-08").out
    assert "as recorded" not in ok(fl, "audit", "replay").out
