"""The application layer (`app.service.Service`): what the command line calls, called directly.

Each test drives the service without the command line and checks it against what the
command line prints for the same ledger (the service is the CLI's only door)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.commands import DesignateSeries, RecordClosing, ReportCommonOutstanding
from app.errors import InvalidInput, NotFound
from app.service import Service
from projections.reports import to_json
from tests.conftest import invoke
from tests.paths import FIXTURES

FIXTURE = FIXTURES / "format1.db"


@pytest.fixture
def copied(tmp_path: Path) -> str:
    path = tmp_path / "ledger.db"
    shutil.copyfile(FIXTURE, path)
    return str(path)


def series(on: date = date(2003, 5, 8)) -> DesignateSeries:
    return DesignateSeries(
        effective_date=on, series="Series D", stated_value=Decimal("10000"),
        par_value=Decimal("0.001"), conversion_price=Decimal("2.35"),
        dividend_rate=Decimal("8"), authorized=444, cumulative=True, frequency="quarterly",
        day_count="actual/365", dividend_form="either", convert_accrued=True,
    )


def test_each_report_is_what_the_command_line_prints(copied: str) -> None:
    ledger = Service(copied)
    for name, report in (("preferred", ledger.preferred()), ("warrants", ledger.warrants()),
                         ("capital", ledger.capital()), ("summary", ledger.summary()),
                         ("terms", ledger.terms()), ("dividends", ledger.dividends())):
        shown = invoke("--db", copied, "report", name, "--json")
        assert shown.code == 0, shown.err
        assert to_json(report) == json.loads(shown.out), name


def test_as_of_and_as_recorded_reach_the_replay(copied: str) -> None:
    ledger = Service(copied)
    _, on = ledger.books(as_of=date(2003, 5, 9))
    assert on == date(2003, 5, 9)
    assert to_json(ledger.summary(as_of=on)) == json.loads(
        invoke("--db", copied, "report", "summary", "--as-of", "2003-05-09", "--json").out)
    early = ledger.preferred(as_recorded=2)
    assert to_json(early) == json.loads(
        invoke("--db", copied, "report", "preferred", "--as-recorded", "2", "--json").out)
    assert early != ledger.preferred()  # position 2 is not the whole ledger
    head = ledger.head()
    with pytest.raises(NotFound, match=f"this ledger has {head[0]} events"):
        ledger.books(as_recorded=head[0] + 1)


def test_an_as_of_report_reads_only_the_tables_it_needs_and_all_when_it_reads_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from projections import checkpoints, reports
    from projections.checkpoints import Unread

    monkeypatch.setattr(checkpoints, "INTERVAL", 4)  # a checkpoint every 4 events folded
    path = str(tmp_path / "l.db")
    ledger = Service(path)
    ledger.record(series())
    for day in range(1, 9):
        ledger.record(RecordClosing(effective_date=date(2003, 6, day), security="Series D",
                                    investors=((f"Fund {day % 3}", 5),)))
        ledger.record(ReportCommonOutstanding(effective_date=date(2003, 6, day),
                                              shares=3108100 + day))
    on = date(2003, 6, 7)
    full, _ = ledger.books(as_of=on)  # the first --as-of takes the checkpoints on its way
    with ledger.open() as book:
        assert checkpoints.Checkpoints(book.open(), book.id).nearest(on, None) is not None
    skipped, _ = ledger.books(as_of=on, reads=frozenset({"capital"}))
    assert isinstance(skipped.baselines, Unread) and isinstance(skipped.common_issues, Unread)
    assert skipped.capital == full.capital and skipped.lots == full.lots
    assert ledger.capital(as_of=on) == reports.capital(full, on)
    # A report that reads a table it did not name is given the whole books, never a guess.
    counted = ledger._report(on, None, lambda book, judge: {},
                             lambda books, _: {"baselines": len(books.baselines)}, frozenset())
    assert counted == {"baselines": len(full.baselines)} and len(full.baselines) == 7
    with pytest.raises(checkpoints.NotDecoded):
        len(skipped.baselines)
    skipped.baselines[1] = None  # the fold may write into it; the rows are not kept
    with pytest.raises(checkpoints.NotDecoded):
        list(skipped.baselines.values())


def test_a_recording_is_appended_once_and_the_read_model_follows(tmp_path: Path) -> None:
    ledger = Service(str(tmp_path / "new.db"), actor="cfo")
    first = ledger.record(series())
    assert first.event.originator_version == 1
    ledger.record(RecordClosing(effective_date=date(2003, 5, 8), security="Series D",
                                investors=(("Xmark Funds", 100),), ref="D-1"))
    assert ledger.summary().preferred.outstanding == 100
    with pytest.raises(InvalidInput):
        ledger.record(RecordClosing(effective_date=date(2003, 5, 8), security="Series D",
                                    investors=(("Xmark Funds", 0),), ref="D-2"))
    assert ledger.head()[0] == 2  # the refused closing appended nothing
    reversed_ = ledger.reverse(2, "typed twice")
    assert reversed_.event.originator_version == 3
    assert ledger.summary().preferred.outstanding == 0


def test_a_failed_catch_up_is_a_warning_and_the_event_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from projections import readmodel

    said: list[str] = []
    ledger = Service(str(tmp_path / "new.db"), warn=said.append)

    def broken(*args: object) -> bool:
        raise OSError("the disk is full")

    monkeypatch.setattr(readmodel, "catch_up", broken)
    ledger.record(ReportCommonOutstanding(effective_date=date(2003, 5, 9), shares=100))
    assert ledger.head()[0] == 1
    assert len(said) == 1 and "the disk is full" in said[0]


def test_verify_and_replay(copied: str) -> None:
    ledger = Service(copied)
    (verdict,) = ledger.verify()
    assert verdict.result.ok and verdict.ledger == "" and verdict.behind is None
    assert verdict.result.head_hash == ledger.head()[1]
    with ledger.replay(until=date(2003, 5, 8)) as steps:
        shown = [step.event.effective_date for step in steps]
    assert shown and all(d <= date(2003, 5, 8) for d in shown)
    with pytest.raises(NotFound), ledger.replay(to=999) as steps:
        list(steps)


def test_export_then_import_gives_the_same_books(copied: str, tmp_path: Path) -> None:
    exported = tmp_path / "out.jsonl"
    count = Service(copied).export(exported)
    copy = Service(str(tmp_path / "copy.db"))
    imported = copy.import_file(exported)
    assert imported.count == count == Service(copied).head()[0]
    assert copy.summary() == Service(copied).summary()


def test_completion_never_fails(copied: str, tmp_path: Path) -> None:
    assert Service(copied).completions("series", "Ser") == ["Series D"]
    assert Service(copied).completions("securities", "") == ["Series D", "common"]
    missing = Service(str(tmp_path / "none.db"))
    assert missing.completions("holders", "") == []
    assert missing.completions("securities", "c") == ["common"]
    assert not (tmp_path / "none.db").exists()  # completion writes nothing
