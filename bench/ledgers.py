"""PostgreSQL, many ledgers in one store, many writers: each figure beside its reference,
measured in the same run (issue 16).

    PYTHONPATH=. .venv/bin/python bench/ledgers.py --pg postgresql://postgres@127.0.0.1:5432/test \
        [--pg-size 100000] [--ledgers 1000] [--events 100] [--out bench/results/ledgers.json]

(or `bench/run.py --ledgers ...`, which runs this after its sizes). Three parts:

- PostgreSQL at size: a ledger of `--pg-size` events imported into a schema of its own, and
  `record` and `report summary` timed as whole processes, alternating with the same on a
  10-event PostgreSQL ledger (`run.measure_pair`: both see the same load).
- Many ledgers: a store of `--ledgers` ledgers x `--events` events (SQLite file and
  PostgreSQL schema), and `report summary` of one of them beside the same ledger alone in a
  store of its own.
- Writers: 16 processes writing 20 events each, spread over 4 ledgers of one store, beside
  16 processes writing into one ledger (SQLite and PostgreSQL): events per second from the
  moment all start to the last commit; every event is checked to have landed once.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT)]

import run  # noqa: E402  (bench/run.py: one way of timing whole processes)

PYTHON = sys.executable
WRITERS = 16
EVENTS_EACH = 20
SPREAD = 4


def cli(db: str, *words: str) -> list[str]:
    return [PYTHON, "-m", "cli", "--db", db, *words]


def pg_url(base: str, schema: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}schema={schema}"


def drop_schema(base: str, schema: str) -> None:
    import psycopg

    from ledger.location import Target

    t = Target.parse(base)
    with psycopg.connect(dbname=t.dbname, host=t.host, port=t.port, user=t.user,
                         password=t.password, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def figure(fig: run.Figure) -> dict[str, Any]:
    return {"status": fig.status, "seconds": fig.seconds, "runs": fig.runs,
            "detail": fig.detail}


# --- PostgreSQL at size ------------------------------------------------------------------


def pg_at_size(base: str, size: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    big_schema, small_schema = f"bench_big_{size}", "bench_small_10"
    big, small = pg_url(base, big_schema), pg_url(base, small_schema)
    found: dict[str, Any] = {"events": size}
    for schema, n, url in ((big_schema, size, big), (small_schema, run.SMALL, small)):
        drop_schema(base, schema)
        data, facts = run.history(n, args.seed, work)
        imported, _ = run.measure(cli(url, "import", str(data)), 1, args.timeout)
        found[f"import_{n}"] = figure(imported)
        if not imported.ok:
            return found
        if n == size:
            last = facts["last_date"]
    found["summary"], found["summary_small"] = map(figure, run.measure_pair(
        cli(big, "report", "summary"), cli(small, "report", "summary"), args.repeat,
        args.timeout))
    day = (date.fromisoformat(last) + timedelta(days=1)).isoformat()
    record = ["record", "warrants", "--holder", "Bench Holder", "--shares", "1000",
              "--exercise-price", "3.00", "--date", day]
    found["record"], found["record_small"] = map(figure, run.measure_pair(
        cli(big, *record), cli(small, *record), args.repeat, args.timeout))
    for schema in (big_schema, small_schema):
        drop_schema(base, schema)
    return found


# --- many ledgers in one store -----------------------------------------------------------


def fill(db: str, names: list[str], data: Path) -> float:
    """Import the same history into each ledger of the store (in this process)."""
    from ledger.service import Ledger
    from ledger.transfer import import_lines
    from projections.readmodel import catch_up, import_sink

    started = time.perf_counter()
    lines = data.read_text().splitlines()
    for name in names:
        with Ledger(db, create=True, ledger=name) as book:
            import_lines(book, lines, sink=import_sink(book))
            catch_up(book)
    return time.perf_counter() - started


def many_ledgers(db: str, alone: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    data, _ = run.history(args.events, args.seed, work)
    names = [f"issuer-{i:04d}" for i in range(args.ledgers)]
    one = names[len(names) // 2]
    built = fill(db, names, data)
    fill(alone, [one], data)
    summary, reference = run.measure_pair(
        cli(db, "--ledger", one, "report", "summary"),
        cli(alone, "--ledger", one, "report", "summary"), args.repeat, args.timeout)
    return {"ledgers": args.ledgers, "events_each": args.events, "build_seconds": built,
            "summary": figure(summary), "summary_alone": figure(reference)}


# --- many writers --------------------------------------------------------------------------


def writer(target: str, name: str, worker: int, barrier: Any) -> None:
    from ledger.commands import IssueWarrants
    from ledger.service import Ledger
    from projections.readmodel import catch_up, follower

    with Ledger(target, actor=f"writer-{worker}", ledger=name) as book:
        if book.target.kind == "postgres":
            book.follow = follower(book)
        book.open()
        barrier.wait(timeout=300)
        for n in range(EVENTS_EACH):
            event = book.record(IssueWarrants(
                effective_date=date(2003, 5, 8), holder=f"Holder {worker}", shares=1000 + n,
                exercise_price=Decimal("3.00"), ref=f"W-{worker}-{n}"))
            if book.target.kind == "sqlite":
                catch_up(book, [event])  # as the CLI does after each write


def writers(target: str, spread: int) -> dict[str, Any]:
    from ledger.service import Ledger

    names = [f"w-{i}" for i in range(spread)]
    for name in names:
        Ledger(target, create=True, ledger=name).init()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WRITERS + 1)
    workers = [ctx.Process(target=writer, args=(target, names[w % spread], w, barrier))
               for w in range(WRITERS)]
    for process in workers:
        process.start()
    barrier.wait(timeout=300)
    started = time.perf_counter()
    for process in workers:
        process.join(timeout=1800)
    seconds = time.perf_counter() - started
    landed = 0
    for name in names:
        with Ledger(target, ledger=name) as book:
            refs = [getattr(e, "ref", None) for e in book.events()]
        assert len(refs) == len(set(refs)), "an event landed twice"
        landed += len(refs)
    ok = landed == WRITERS * EVENTS_EACH and all(p.exitcode == 0 for p in workers)
    return {"ledgers": spread, "events": landed, "ok": ok, "seconds": seconds,
            "events_per_second": landed / seconds}


# --- the whole run ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="finledger: PostgreSQL, many ledgers, many writers")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--pg-size", type=int, default=100_000)
    parser.add_argument("--ledgers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--work", type=Path, default=BENCH / ".work")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "ledgers.json")
    parser.add_argument("--skip", default="", help="comma-separated: pg,many,writers")
    args = parser.parse_args(argv)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    args.work.mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    results: dict[str, Any] = {"machine": run.machine()}
    tag = uuid.uuid4().hex[:6]
    if "pg" not in skip:
        print(f"PostgreSQL at {args.pg_size:,} events", file=sys.stderr, flush=True)
        results["postgres_size"] = pg_at_size(args.pg, args.pg_size, args, args.work)
    if "many" not in skip:
        for kind in ("sqlite", "postgres"):
            print(f"{args.ledgers:,} ledgers x {args.events} on {kind}", file=sys.stderr,
                  flush=True)
            if kind == "sqlite":
                db, alone = str(args.work / "many.db"), str(args.work / "alone.db")
                for path in (db, alone):
                    run.remove_db(Path(path))
            else:
                db, alone = pg_url(args.pg, f"bench_many_{tag}"), pg_url(args.pg, f"bench_alone_{tag}")
            try:
                results[f"many_{kind}"] = many_ledgers(db, alone, args, args.work)
            finally:
                if kind == "sqlite":
                    for path in (db, alone):
                        run.remove_db(Path(path))
                else:
                    drop_schema(args.pg, f"bench_many_{tag}")
                    drop_schema(args.pg, f"bench_alone_{tag}")
    if "writers" not in skip:
        for kind in ("sqlite", "postgres"):
            for spread in (SPREAD, 1):
                print(f"{WRITERS} writers over {spread} ledger(s) on {kind}", file=sys.stderr,
                      flush=True)
                schema = f"bench_writers_{spread}_{tag}"
                db = str(args.work / f"writers-{spread}.db") if kind == "sqlite" \
                    else pg_url(args.pg, schema)
                if kind == "sqlite":
                    run.remove_db(Path(db))
                try:
                    results[f"writers_{kind}_{spread}"] = writers(db, spread)
                finally:
                    if kind == "sqlite":
                        run.remove_db(Path(db))
                    else:
                        drop_schema(args.pg, schema)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    text = table(results)
    args.out.with_suffix(".md").write_text(text)
    print(text)
    return 0


def table(results: dict[str, Any]) -> str:
    """The figures as a Markdown table, each beside its reference and their ratio."""
    lines = ["| figure | value | reference (same run) | ratio | target |", "|---|---|---|---|---|"]

    def pair(name: str, fig: dict[str, Any] | None, ref: dict[str, Any] | None, ref_name: str,
             target: str) -> None:
        if not fig or not ref:
            return
        if fig["status"] != "ok" or ref["status"] != "ok":
            lines.append(f"| {name} | {fig['status']} {fig['detail']} | {ref_name}: "
                         f"{ref['status']} | | {target} |")
            return
        ratio = fig["seconds"] / ref["seconds"]
        lines.append(f"| {name} | {fig['seconds']:.3f} s | {ref_name}: {ref['seconds']:.3f} s | "
                     f"{ratio:.2f}x | {target} |")

    size = results.get("postgres_size")
    if size:
        n = size["events"]
        pair(f"PostgreSQL `report summary`, {n:,} events", size.get("summary"),
             size.get("summary_small"), "10 events", "<= 1.2x")
        pair(f"PostgreSQL `record warrants`, {n:,} events", size.get("record"),
             size.get("record_small"), "10 events", "<= 1.2x")
        imported = size.get(f"import_{n}")
        if imported and imported["status"] == "ok":
            lines.append(f"| PostgreSQL `import`, {n:,} events | {imported['seconds']:.1f} s | "
                         f"| | |")
    for kind in ("sqlite", "postgres"):
        many = results.get(f"many_{kind}")
        if many:
            pair(f"{kind}: `report summary` of 1 of {many['ledgers']:,} ledgers x "
                 f"{many['events_each']} events", many["summary"], many["summary_alone"],
                 "the ledger alone in a store", "<= 1.2x")
    for kind in ("sqlite", "postgres"):
        spread, one = results.get(f"writers_{kind}_{SPREAD}"), results.get(f"writers_{kind}_1")
        if spread and one:
            lines.append(
                f"| {kind}: {WRITERS} writers x {EVENTS_EACH} events over {SPREAD} ledgers | "
                f"{spread['events_per_second']:.1f} events/s ({spread['events']} landed once: "
                f"{'yes' if spread['ok'] else 'NO'}) | over 1 ledger: "
                f"{one['events_per_second']:.1f} events/s ({one['events']} landed once: "
                f"{'yes' if one['ok'] else 'NO'}) | "
                f"{spread['events_per_second'] / one['events_per_second']:.2f}x | all land once |")
    load = results.get("machine", {}).get("load_average_1m")
    if load is not None:
        lines.append("")
        lines.append(f"{results['machine'].get('cpus')} cores, load {load:.1f} at the end, "
                     f"commit {results['machine'].get('commit')}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
