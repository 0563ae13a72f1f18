"""PostgreSQL specifics: passwords never shown, several writers on one database, and eight
processes racing to create and fill one ledger without losing or duplicating an event (the
writers and checks of tests/product/test_concurrency.py, pointed at PostgreSQL).

The CLI behaviour itself runs on PostgreSQL through the `db` fixture in every other test.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import subprocess
import sys
from datetime import date

import pytest

from ledger.commands import ReportCommonOutstanding
from ledger.location import Target, redact
from ledger.postgres import postgres_env
from ledger.service import Ledger
from tests.conftest import invoke
from tests.paths import ROOT
from tests.pg import base_url, fresh_ledger_url
from tests.product.test_concurrency import EVENTS_EACH, PROCESSES, check_ledger, writer

PASSWORD = "Sup3r-S3cret-pw"


def with_password(url: str, password: str = PASSWORD) -> str:
    """The same URL with a password added (trust auth ignores it; it must still stay hidden)."""
    scheme, rest = url.split("://", 1)
    userinfo, _, hostpart = rest.rpartition("@")
    user = userinfo.split(":", 1)[0] if userinfo else "postgres"
    return f"{scheme}://{user}:{password}@{hostpart}"


def assert_hidden(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text, text


# --- passwords ---------------------------------------------------------------------------------


def test_redact_hides_any_url_password() -> None:
    assert redact(f"at postgresql://fin:{PASSWORD}@db:5432/x failed") == (
        "at postgresql://fin:***@db:5432/x failed")
    assert redact("postgresql://fin@db/x") == "postgresql://fin@db/x"


def test_unreachable_server_error_shows_no_password(caplog: pytest.LogCaptureFixture) -> None:
    url = f"postgresql://fin:{PASSWORD}@127.0.0.1:1/ledgers"
    caplog.set_level(logging.DEBUG)
    for args, env in (((("--db", url, "log")), None),
                      (("record", "common-outstanding", "5", "--date", "2003-05-09"),
                       {"FINLEDGER_DB": url})):
        r = invoke(*args, env=env)
        assert r.code == 1, (r.out, r.err)
        assert r.err.startswith("Error: cannot connect to the ledger at "
                                "postgresql://fin@127.0.0.1:1/ledgers")
        assert r.err.count("\n") == 1 and "Traceback" not in r.err
        assert_hidden(r.out, r.err)
    assert_hidden(caplog.text)


def test_pgpassword_is_used_when_the_url_has_none(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    assert postgres_env(Target.parse("postgresql://fin@db/x"))["POSTGRES_PASSWORD"] == PASSWORD
    assert postgres_env(Target.parse("postgresql://fin:other@db/x"))["POSTGRES_PASSWORD"] == (
        "other")
    caplog.set_level(logging.DEBUG)
    r = invoke("--db", "postgresql://fin@127.0.0.1:1/ledgers", "log")
    assert r.code == 1 and "cannot connect" in r.err
    assert_hidden(r.out, r.err, caplog.text)


@pytest.mark.postgres
def test_server_refusals_show_no_password(caplog: pytest.LogCaptureFixture) -> None:
    base = Target.parse(base_url())
    caplog.set_level(logging.DEBUG)
    for url, words in (
        (f"postgresql://nobody_here:{PASSWORD}@{base.host}:{base.port}/{base.dbname}",
         'role "nobody_here" does not exist'),
        (f"postgresql://{base.user}:{PASSWORD}@{base.host}:{base.port}/no_such_db_x",
         'database "no_such_db_x" does not exist'),
    ):
        r = invoke("--db", url, "init")
        assert r.code == 1, (r.out, r.err)
        assert words in r.err and r.err.count("\n") == 1
        assert_hidden(r.out, r.err)
    assert_hidden(caplog.text)


@pytest.mark.postgres
def test_password_never_printed_while_working(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with fresh_ledger_url() as plain:
        url = with_password(plain)
        target = Target.parse(url)
        assert target.password == PASSWORD
        outputs = [
            invoke("--db", url, "init"),
            invoke("--db", url, "record", "common-outstanding", "3108100", "--date",
                   "2003-05-09"),
            invoke("--db", url, "record", "conversion", "Nope", "--holder", "A", "--shares", "1",
                   "--date", "2003-05-09"),  # refused: no such series
            invoke("--db", url, "log", "--json"),
            invoke("--db", url, "audit", "verify"),
            invoke("log", env={"FINLEDGER_DB": url}),
        ]
    assert [r.code for r in outputs] == [0, 0, 1, 0, 0, 0]
    assert target.display() in outputs[0].out
    for r in outputs:
        assert_hidden(r.out, r.err)
    assert_hidden(caplog.text)


# --- several writers ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_two_long_lived_writers_see_each_other() -> None:
    """Two servers holding the ledger open: each decides from the other's latest events."""
    with (
        fresh_ledger_url() as url,
        Ledger(url, actor="east", create=True) as east,
        Ledger(url, actor="west") as west,
    ):
        east.record(ReportCommonOutstanding(effective_date=date(2003, 5, 9), shares=100))
        west.record(ReportCommonOutstanding(effective_date=date(2003, 5, 10), shares=200))
        east.record(ReportCommonOutstanding(effective_date=date(2003, 5, 11), shares=300))
        for book in (east, west):
            events = book.events()
            assert [(e.originator_version, e.actor) for e in events] == [
                (1, "east"), (2, "west"), (3, "east")]
            assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
            assert book.head() == (3, events[-1].hash)
        assert east.events(after=1) == west.events(after=1)


@pytest.mark.postgres
@pytest.mark.parametrize("precreated", [True, False], ids=["existing", "created-by-the-race"])
def test_eight_processes_record_sixty_four_events_nothing_lost(precreated: bool) -> None:
    """The SQLite race of test_concurrency, on PostgreSQL: 8 processes x 8 events."""
    with fresh_ledger_url() as url:
        if precreated:
            Ledger(url, create=True).init()
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(PROCESSES)
        workers = [ctx.Process(target=writer, args=(url, w, barrier)) for w in range(PROCESSES)]
        for process in workers:
            process.start()
        for process in workers:
            process.join(timeout=300)
        assert [p.exitcode for p in workers] == [0] * PROCESSES
        check_ledger(url, {f"W-{w}-{n}" for w in range(PROCESSES) for n in range(EVENTS_EACH)})
        verify = invoke("--db", url, "audit", "verify", "--json")
        assert verify.code == 0, verify.err
        report = json.loads(verify.out)
        assert (report["ok"], report["events"], report["problems"]) == (True, 64, [])


@pytest.mark.postgres
def test_eight_cli_processes_at_once_on_a_new_ledger() -> None:
    with fresh_ledger_url() as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FINLEDGER_")}
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "cli", "--db", url, "record", "warrants",
                 "--holder", f"Holder {w}", "--shares", "100", "--exercise-price", "3.50",
                 "--date", "2003-05-14", "--ref", f"C-{w}"],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for w in range(PROCESSES)
        ]
        results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
        assert [(code, err) for code, _, err in results] == [(0, "")] * PROCESSES
        positions = sorted(int(out.split("position ")[1].split()[0]) for _, out, _ in results)
        assert positions == list(range(1, PROCESSES + 1))
        log = json.loads(invoke("--db", url, "log", "--json").out)
        assert sorted(e["data"]["ref"] for e in log) == [f"C-{w}" for w in range(PROCESSES)]
