"""Bad input at the command line: every one exits 1 or 2 with one `Error:` line, no traceback,
and nothing appended. Odd but valid names are accepted and kept exactly."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import invoke

DESIGNATE = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
             "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"]


def series(*changes: str, name: str = "Series E") -> list[str]:
    """`record series` for a new series, with some options replaced."""
    args = ["record", "series", name, "--date", "2003-05-08", "--stated-value", "10000",
            "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "100"]
    for option, value in zip(changes[::2], changes[1::2], strict=True):
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args += [option, value]
    return args


SETUP = [
        DESIGNATE,
        ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
         "--investor", "SCO Capital Partners=200", "--investor", "SDS Merchant Fund=244"],
        ["record", "warrants", "--holder", "SCO Capital Partners", "--shares", "944681",
         "--exercise-price", "3.00", "--date", "2003-05-08", "--expires", "2008-05-08",
         "--ref", "W-1", "--closing", "D-1"],
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The set-up SQLite ledger, built once and copied for each case (it is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    for step in SETUP:
        result = invoke("--db", str(path), *step)
        assert result.code == 0, result.err
    return path


@pytest.fixture
def setup_ledger(db: str, fl: Any, template: Path) -> int:
    """Series D with its first closing (all 444 issued) and one warrant expiring 2008-05-08."""
    if "://" in db:
        for step in SETUP:
            result = fl(*step)
            assert result.code == 0, result.err
    else:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{template}{suffix}"):
                shutil.copyfile(f"{template}{suffix}", f"{db}{suffix}")
    return len(SETUP)


def event_count(fl: Any) -> int:
    result = fl("log", "--json")
    assert result.code == 0, result.err
    return len(json.loads(result.out))


CLOSING = ["record", "closing", "Series D", "--date", "2003-06-01"]
WARRANT = ["record", "warrants", "--holder", "H", "--shares", "10", "--exercise-price", "3",
           "--date", "2003-06-01"]
EXERCISE = ["record", "exercise", "W-1", "--date", "2004-01-15"]
DIVIDEND = ["record", "dividend", "Series D", "--through", "2003-06-30", "--date", "2003-07-01"]
CONVERT = ["record", "conversion", "Series D", "--date", "2003-08-01"]

BAD_INPUT: list[tuple[str, list[str]]] = [
    # malformed numbers
    ("thousands separator", series("--stated-value", "1,000")),
    ("NaN stated value", series("--stated-value", "NaN")),
    ("Infinity price", series("--conversion-price", "Infinity")),
    ("lower-case nan", series("--conversion-price", "nan")),
    ("exponent", series("--stated-value", "1e4")),
    ("empty number", series("--stated-value", "")),
    ("letters for a number", series("--conversion-price", "abc")),
    ("negative stated value", series("--stated-value", "-10000")),
    ("negative zero fee", [*CLOSING, "--investor", "A=1", "--fees", "-0"]),
    ("zero stated value", series("--stated-value", "0")),
    ("fullwidth digits", series("--stated-value", "\uff11\uff10")),
    ("arabic-indic digits", series("--authorized", "\u0664\u0664\u0664")),
    ("too many decimals", series("--conversion-price", "2.35000000001")),
    ("absurdly large", series("--stated-value", "9" * 80)),
    ("double percent", series("--dividend-rate", "8%%")),
    ("rate over 100%", series("--dividend-rate", "101")),
    ("zero authorized", series("--authorized", "0")),
    ("fractional shares", series("--authorized", "1.5")),
    ("negative shares", series("--authorized", "-1")),
    # malformed dates
    ("Feb 30", series("--date", "2003-02-30")),
    ("US date", series("--date", "05/08/2003")),
    ("unpadded date", series("--date", "2003-5-8")),
    ("empty date", series("--date", "")),
    ("date with time", series("--date", "2003-05-08T00:00")),
    ("missing date", ["record", "common-outstanding", "100"]),
    # enums and options
    ("unknown day count", series("--day-count", "actual/360")),
    ("unknown frequency", series("--frequency", "weekly")),
    ("unknown option", series("--frobnicate", "1")),
    ("unknown command", ["record", "frobnicate"]),
    ("unknown payment form", [*DIVIDEND, "--form", "bonds"]),
    # names
    ("empty series name", series(name="")),
    ("blank series name", series(name="   ")),
    ("newline in a name", series(name="Series\nE")),
    ("tab in a name", series(name="Series\tE")),
    ("zero-width-only name", series(name="\u200b")),
    ("right-to-left override", series(name="Series \u202eE")),
    ("undecodable bytes", series(name="Series \udcff")),
    ("name too long", series(name="E" * 201)),
    ("series named common", series(name="Common")),
    ("duplicate series", DESIGNATE),
    ("empty investor name", [*CLOSING, "--investor", "=5"]),
    ("blank investor name", [*CLOSING, "--investor", "   =5"]),
    ("control char investor", [*CLOSING, "--investor", "A\x07=5"]),
    ("no = in investor", [*CLOSING, "--investor", "SCO Capital Partners"]),
    ("zero investor shares", [*CLOSING, "--investor", "A=0"]),
    ("negative investor shares", [*CLOSING, "--investor", "A=-3"]),
    ("fractional investor shares", [*CLOSING, "--investor", "A=1.5"]),
    ("empty holder", [*WARRANT[:2], "--holder", "", *WARRANT[4:]]),
    ("empty reversal reason", ["record", "reversal", "1", "--reason", " "]),
    # unknown series and references
    ("authorization of unknown series", ["record", "authorization", "Series Z", "--shares",
                                         "1", "--date", "2003-06-01"]),
    ("closing of unknown series", ["record", "closing", "Series Z", "--date", "2003-06-01",
                                   "--investor", "A=1"]),
    ("dividend of unknown series", ["record", "dividend", "Series Z", "--through",
                                    "2003-06-30", "--date", "2003-07-01", "--form", "cash"]),
    ("conversion of unknown series", ["record", "conversion", "Series Z", "--holder", "A",
                                      "--shares", "1", "--date", "2003-08-01"]),
    ("exercise of unknown warrant", ["record", "exercise", "W-404", "--shares", "1",
                                     "--date", "2004-01-15"]),
    ("warrant with unknown closing", [*WARRANT, "--closing", "D-404"]),
    ("reversal of unknown position", ["record", "reversal", "99", "--reason", "typo"]),
    ("reversal of position 0", ["record", "reversal", "0", "--reason", "typo"]),
    ("conversion by a non-holder", [*CONVERT, "--holder", "Nobody", "--shares", "1"]),
    # invariants
    ("over-conversion", [*CONVERT, "--holder", "SCO Capital Partners", "--shares", "201"]),
    ("zero conversion", [*CONVERT, "--holder", "SCO Capital Partners", "--shares", "0"]),
    ("exercise after expiry", ["record", "exercise", "W-1", "--shares", "1",
                               "--date", "2008-05-09"]),
    ("exercise before issue", ["record", "exercise", "W-1", "--shares", "1",
                               "--date", "2003-05-07"]),
    ("over-exercise", [*EXERCISE, "--shares", "944682"]),
    ("cashless without price", [*EXERCISE, "--shares", "1", "--cashless"]),
    ("cashless under water", [*EXERCISE, "--shares", "1", "--cashless",
                              "--market-price", "2.99"]),
    ("duplicate closing ref", [*CLOSING, "--investor", "A=1", "--ref", "D-1"]),
    ("duplicate warrant ref", [*WARRANT, "--ref", "W-1"]),
    ("warrant ref reusing a closing ref", [*WARRANT, "--ref", "D-1"]),
    ("closing over authorized", [*CLOSING, "--investor", "A=1"]),
    ("back-dated closing over authorized", ["record", "closing", "Series D", "--date",
                                            "2003-05-08", "--investor", "A=1"]),
    ("investor twice", [*CLOSING, "--investor", "A=1", "--investor", "A=2"]),
    ("no investor", CLOSING),
    ("common closing without price", ["record", "closing", "common", "--date", "2003-06-01",
                                      "--investor", "A=1"]),
    ("fees above gross", ["record", "closing", "common", "--date", "2003-06-01",
                          "--investor", "A=1", "--price-per-share", "2", "--fees", "3"]),
    ("closing before designation", ["record", "closing", "Series D", "--date", "2003-05-07",
                                    "--investor", "A=1"]),
    ("expiry before issue", [*WARRANT, "--expires", "2003-05-31"]),
    ("zero warrant shares", [*WARRANT[:4], "--shares", "0", *WARRANT[6:]]),
    ("zero exercise price", [*WARRANT[:6], "--exercise-price", "0", *WARRANT[8:]]),
    ("stock dividend without price", [*DIVIDEND, "--form", "stock"]),
    ("through after declaration", ["record", "dividend", "Series D", "--through",
                                   "2003-07-02", "--date", "2003-07-01", "--form", "cash"]),
    ("zero common outstanding", ["record", "common-outstanding", "0", "--date", "2003-05-09"]),
    ("words for common outstanding", ["record", "common-outstanding", "many",
                                      "--date", "2003-05-09"]),
]


def test_there_are_at_least_forty_kinds_of_bad_input() -> None:
    assert len(BAD_INPUT) >= 40
    assert len({name for name, _ in BAD_INPUT}) == len(BAD_INPUT)


@pytest.mark.parametrize(("case", "args"), BAD_INPUT, ids=[name for name, _ in BAD_INPUT])
def test_bad_input_is_refused_cleanly(
    fl: Any, setup_ledger: int, case: str, args: list[str]
) -> None:
    before = setup_ledger
    result = fl(*args)
    assert result.code in (1, 2), (case, result)
    assert result.err.startswith("Error: "), (case, result.err)
    assert result.err.count("\n") == 1 and result.err.endswith("\n"), (case, result.err)
    assert "Traceback" not in result.err + result.out
    assert event_count(fl) == before


def test_after_all_the_bad_input_the_ledger_still_holds_only_the_good(
    fl: Any, setup_ledger: int
) -> None:
    before = setup_ledger
    for case, args in BAD_INPUT:
        assert fl(*args).code in (1, 2), case
    assert event_count(fl) == before
    assert fl("audit", "verify").code == 0


ODD_BUT_VALID = [
    "Zoë Ventures",
    "O'Brien & Sons",
    'The "Quoted" Fund',
    "שותפים בע\"מ",  # Hebrew, right to left, with a gershayim-style quote
    "شركة الاستثمار",  # Arabic, right to left
    "\u200fמשקיע\u200f Capital",  # right-to-left marks (not overrides) are fine
    "🚀 Rocket Fund",
    "👨‍👩‍👧 Family Office",  # emoji joined by zero-width joiners
    "李氏资本",
    "Ñandú S.A. — Fondo №1",
    "A=B Partners",  # an investor name may hold '=': NAME=SHARES splits at the last one
    "back\\slash `tick` $HOME ; rm -rf",
]


def test_odd_but_valid_names_round_trip_exactly(fl: Any) -> None:
    assert fl(*DESIGNATE[:-1], "1000").code == 0
    closing = ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1"]
    for number, name in enumerate(ODD_BUT_VALID, start=1):
        closing += ["--investor", f"{name}={number}"]
    result = fl(*closing)
    assert result.code == 0, result.err
    for number, name in enumerate(ODD_BUT_VALID, start=1):
        result = fl("record", "warrants", "--holder", name, "--shares", str(number),
                    "--exercise-price", "3", "--date", "2003-05-08", "--label", name,
                    "--ref", f"{name} #{number}")
        assert result.code == 0, (name, result.err)
    result = fl("record", "series", 'Série "Ω" \u05d3', "--date", "2003-05-08",
                "--stated-value", "1", "--conversion-price", "1", "--dividend-rate", "0",
                "--authorized", "1")
    assert result.code == 0, result.err
    name = "Zoë Ventures"
    result = fl("record", "conversion", "Series D", "--holder", name, "--shares", "1",
                "--date", "2003-06-01")
    assert result.code == 0, result.err

    log = json.loads(fl("log", "--json").out)
    allocations = log[1]["data"]["allocations"]
    assert [a["investor"] for a in allocations] == ODD_BUT_VALID
    warrants = [e["data"] for e in log if e["type"] == "WarrantsIssued"]
    assert [w["holder"] for w in warrants] == ODD_BUT_VALID
    assert [w["label"] for w in warrants] == ODD_BUT_VALID
    assert [w["ref"] for w in warrants] == [
        f"{n} #{i}" for i, n in enumerate(ODD_BUT_VALID, start=1)
    ]
    designated = [e["data"]["series"] for e in log if e["type"] == "SeriesDesignated"]
    assert designated == ["Series D", 'Série "Ω" \u05d3']
    assert log[-1]["data"]["holder"] == name
    assert fl("audit", "verify").code == 0
