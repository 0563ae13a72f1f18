"""How finledger's cost grows with history, beside the floor of its store, in one command.

    .venv/bin/python bench/run.py --sizes 1000,10000,100000 [--million] [--update-readme]

For each size it generates a seeded history (bench/generate.py, cached under bench/.work),
builds a ledger with `finledger import`, and times whole `finledger` processes: import,
one `record`, `report summary`, `report preferred --as-of` a past date, `audit verify`,
`audit replay`, `export`; it takes each process's peak RSS (wait4(), and the sampled total
with its child processes) and the ledger's
bytes per event. The references are measured in the same run: plain sqlite3 inserting and
reading back the same JSON lines (bench/rawsqlite.py, also whole processes), `python -c
pass` for start-up, and the same commands on a 10-event ledger. It prints a rich table and
writes bench/results/latest.json (and latest.txt, the table as text).

A command that does not exist yet is reported as "n/a (command missing)" and one that fails
as "failed"; no figure is ever filled in for it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
FINLEDGER = str(Path(PYTHON).with_name("finledger"))
SMALL = 10
README_START = "<!-- bench:latest:start -->"
README_END = "<!-- bench:latest:end -->"
MISSING = "n/a (command missing)"


# --- running one whole process ---------------------------------------------------------------


@dataclass
class Proc:
    seconds: float
    rc: int
    maxrss_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants now, in KiB (0 once gone)."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
                break
        todo.extend(int(c) for c in children)
    return total


class TreeSampler(threading.Thread):
    """The largest total RSS of a process tree, sampled every 20 ms: a command that works
    in two processes at once (`audit verify` from 50,000 events) is counted whole, which
    wait4's per-process peak does not do."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid))


def run_process(cmd: list[str], timeout: float, *, keep_stdout: bool = True) -> Proc:
    """Run `cmd` to completion; wall time and its peak RSS: the larger of the process's own
    peak (wait4) and the sampled peak total of it with its child processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINLEDGER_")}
    env["FINLEDGER_ACTOR"] = "bench"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            child.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        sampler = TreeSampler(child.pid)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        timer.cancel()
        sampler.done.set()
        sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace") if keep_stdout else ""
        stderr = err.read().decode(errors="replace")
    return Proc(seconds, child.returncode, max(usage.ru_maxrss, sampler.peak_kb) / 1024, stdout,
                stderr, killed.is_set())


@dataclass
class Figure:
    """One measured figure: its status and, when ok, the median of its runs."""

    status: str  # ok | missing | failed | timeout
    seconds: float = 0.0
    runs: list[float] = field(default_factory=list)
    maxrss_mb: float = 0.0
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def label(self) -> str:
        if self.status == "missing":
            return MISSING
        if self.status == "timeout":
            return f"timeout ({self.detail})"
        if self.status == "failed":
            return f"failed ({self.detail})"
        return ""


def measure(
    cmd: list[str], repeats: int, timeout: float, *, prepare: Any = None,
    keep_stdout: bool = False,
) -> tuple[Figure, Proc | None]:
    runs: list[float] = []
    rss = 0.0
    last: Proc | None = None
    for _ in range(repeats):
        if prepare is not None:
            prepare()
        proc = run_process(cmd, timeout, keep_stdout=keep_stdout)
        last = proc
        if proc.timed_out:
            return Figure("timeout", detail=f"> {timeout:.0f} s"), proc
        if proc.rc != 0:
            line = (proc.stderr.strip().splitlines() or [f"exit {proc.rc}"])[-1][:120]
            return Figure("failed", detail=f"exit {proc.rc}: {line}"), proc
        runs.append(proc.seconds)
        rss = max(rss, proc.maxrss_mb)
    return Figure("ok", statistics.median(runs), runs, rss), last


def measure_pair(
    cmd: list[str], ref_cmd: list[str], repeats: int, timeout: float, *,
    prepare: Any = None, ref_prepare: Any = None,
) -> tuple[Figure, Figure]:
    """`cmd` and its reference `ref_cmd` run alternately, so that both see the same load.

    A shared machine's load drifts over minutes; timing the 10-event reference once at the
    start and the 100,000-event figure minutes later would put that drift into the ratio.
    """
    runs: dict[str, list[float]] = {"fig": [], "ref": []}
    rss = {"fig": 0.0, "ref": 0.0}
    failed: dict[str, Figure] = {}
    for _ in range(repeats):
        for which, command, prep in (("ref", ref_cmd, ref_prepare), ("fig", cmd, prepare)):
            if which in failed:
                continue
            if prep is not None:
                prep()
            proc = run_process(command, timeout, keep_stdout=False)
            if proc.timed_out:
                failed[which] = Figure("timeout", detail=f"> {timeout:.0f} s")
            elif proc.rc != 0:
                line = (proc.stderr.strip().splitlines() or [f"exit {proc.rc}"])[-1][:120]
                failed[which] = Figure("failed", detail=f"exit {proc.rc}: {line}")
            else:
                runs[which].append(proc.seconds)
                rss[which] = max(rss[which], proc.maxrss_mb)

    def figure(which: str) -> Figure:
        if which in failed:
            return failed[which]
        return Figure("ok", statistics.median(runs[which]), runs[which], rss[which])

    return figure("fig"), figure("ref")


_AVAILABLE: dict[tuple[str, ...], bool] = {}


def available(*words: str) -> bool:
    """Whether `finledger WORDS --help` exists (exit 0) in the code as it stands now."""
    if words not in _AVAILABLE:
        proc = run_process([FINLEDGER, *words, "--help"], 60)
        _AVAILABLE[words] = proc.rc == 0
    return _AVAILABLE[words]


# --- inputs ----------------------------------------------------------------------------------


def history(n: int, seed: int, work: Path) -> tuple[Path, dict[str, Any]]:
    """The seeded export of n events, generated once and cached."""
    sys.path.insert(0, str(BENCH))
    from generate import GENERATOR_VERSION

    path = work / f"history-{n}-seed{seed}-v{GENERATOR_VERSION}.jsonl"
    facts_path = path.with_suffix(".json")
    if not (path.exists() and facts_path.exists()):
        print(f"  generating {n:,} events ...", file=sys.stderr, flush=True)
        tmp = path.with_suffix(".tmp")
        proc = run_process(
            [PYTHON, str(BENCH / "generate.py"), str(n), "-o", str(tmp), "--seed", str(seed)],
            36_000,
        )
        if proc.rc != 0:
            raise SystemExit(f"generator failed: {proc.stderr[-2000:]}")
        facts_path.write_text(proc.stderr.strip().splitlines()[-1])
        tmp.replace(path)
    return path, json.loads(facts_path.read_text())


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def copy_db(source: Path, target: Path) -> None:
    """A fresh copy of a ledger, flushed to disk before it is timed: otherwise the command's
    first fsync (SQLite's checkpoint on close) pays for writing out the whole copy (0.46 s of
    one `record` on a fresh copy of the million-event ledger), which no user's ledger owes."""
    remove_db(target)
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
            fd = os.open(f"{target}{suffix}", os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def db_bytes(path: Path) -> int:
    return sum(
        Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists()
    )


# --- one size --------------------------------------------------------------------------------


def bench_size(n: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    print(f"size {n:,}", file=sys.stderr, flush=True)
    data, facts = history(n, args.seed, work)
    db = work / f"ledger-{n}.db"
    copy = work / f"ledger-{n}-copy.db"
    raw = work / f"raw-{n}.db"
    remove_db(db)
    result: dict[str, Any] = {"events": n, "history": facts, "history_bytes": data.stat().st_size}
    fig: dict[str, Figure] = {}
    timeout = args.timeout

    # build: import (or, while import is missing, the bench-only direct store append)
    if available("import"):
        fig["import"], _ = measure([FINLEDGER, "--db", str(db), "import", str(data)], 1, timeout,
                                   prepare=lambda: remove_db(db))
    else:
        fig["import"] = Figure("missing")
    if not fig["import"].ok:
        proc = run_process([PYTHON, str(BENCH / "seed.py"), str(data), str(db)], timeout)
        result["seeded_directly"] = proc.rc == 0
        if proc.rc != 0:
            result["seed_error"] = proc.stderr[-2000:]
            result["figures"] = {k: asdict(v) for k, v in fig.items()}
            return result
        fig["store_append"] = Figure("ok", proc.seconds, [proc.seconds], proc.maxrss_mb,
                                     extra=json.loads(proc.stdout))
    result["bytes_per_event"] = db_bytes(db) / n

    # references: plain sqlite3 with the same rows, whole processes
    remove_db(raw)
    fig["raw_insert"], ref_proc = measure(
        [PYTHON, str(BENCH / "rawsqlite.py"), "insert", str(data), str(raw)], 1, timeout,
        keep_stdout=True)
    if ref_proc is not None and fig["raw_insert"].ok:
        fig["raw_insert"].extra = json.loads(ref_proc.stdout)
    fig["raw_read"], ref_proc = measure(
        [PYTHON, str(BENCH / "rawsqlite.py"), "read", str(raw)], args.repeat, timeout,
        keep_stdout=True)
    if ref_proc is not None and fig["raw_read"].ok:
        fig["raw_read"].extra = json.loads(ref_proc.stdout)
    result["raw_bytes_per_event"] = db_bytes(raw) / n
    remove_db(raw)

    base = [FINLEDGER, "--db", str(db)]
    # whole-history commands take minutes at a million events: fewer runs of those
    heavy = 1 if n >= 1_000_000 else max(1, min(args.repeat, 3)) if n >= 100_000 else args.repeat

    def read_only(key: str, words: list[str], repeats: int, *, first: bool = False) -> None:
        if not available(*words[:2]) and not available(*words[:1]):
            fig[key] = Figure("missing")
            return
        if first:
            fig[f"{key}_first"], _ = measure([*base, *words], 1, timeout)
        fig[key], _ = measure([*base, *words], repeats, timeout)

    small_db = work / f"ledger-{SMALL}.db"
    paired = n != SMALL and small_db.exists()
    if paired and available("report", "summary"):
        # steady state, each run beside a run on the 10-event ledger (same load)
        fig["summary_first"], _ = measure([*base, "report", "summary"], 1, timeout)
        fig["summary"], fig["summary_small"] = measure_pair(
            [*base, "report", "summary"], [FINLEDGER, "--db", str(small_db), "report", "summary"],
            args.repeat, timeout)
    else:
        read_only("summary", ["report", "summary"], args.repeat, first=True)
    past = facts.get("middle_date") or facts["last_date"]
    # the first run after import builds the checkpoints (projections/checkpoints.py): shown apart
    read_only("preferred_as_of", ["report", "preferred", "--as-of", past], heavy, first=True)
    if n >= 10_000 and available("report", "preferred"):
        # each current report beside a ledger that prints as many rows (bench/same_rows.py)
        import same_rows

        try:
            result["same_rows"] = same_rows.bench(data, db, work, args.repeat, timeout)
        except (SystemExit, subprocess.CalledProcessError) as exc:
            result["same_rows_error"] = str(exc)[-500:]
    read_only("verify", ["audit", "verify"], heavy)
    read_only("replay", ["audit", "replay", "--json"], 1)
    if available("export"):
        out = work / f"export-{n}.jsonl"
        fig["export"], _ = measure([*base, "export", "-o", str(out)], 1, timeout)
        out.unlink(missing_ok=True)
    else:
        fig["export"] = Figure("missing")

    # one record on a copy of the ledger, at the end of its history
    day = (date.fromisoformat(facts["last_date"]) + timedelta(days=1)).isoformat()
    record = [FINLEDGER, "--db", str(copy), "record", "warrants", "--holder", "Bench Holder",
              "--shares", "1000", "--exercise-price", "3.00", "--date", day]
    if paired:
        # the same command on a fresh copy of the 10-event ledger, alternating with this one;
        # its date is this history's, after every event of both
        small_copy = work / f"ledger-{SMALL}-copy.db"
        small_record = [*record[:2], str(small_copy), *record[3:]]
        fig["record"], fig["record_small"] = measure_pair(
            record, small_record, args.repeat, timeout,
            prepare=lambda: copy_db(db, copy), ref_prepare=lambda: copy_db(small_db, small_copy))
        remove_db(small_copy)
    else:
        fig["record"], _ = measure(record, args.repeat, timeout,
                                   prepare=lambda: copy_db(db, copy))
    remove_db(copy)
    if n != SMALL:
        remove_db(db)

    result["figures"] = {k: asdict(v) for k, v in fig.items()}
    return result


# --- the table -------------------------------------------------------------------------------


def bench_interleaved(n: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """`import` of n lines going back and forth in date (`bench/interleave.py`), timed
    alternately with the same lines in date order: back-dated lines must cost what follows
    them (here one line), so the two grow alike, linearly."""
    print(f"interleaved {n:,}", file=sys.stderr, flush=True)
    mixed, ordered = work / f"back-and-forth-{n}.jsonl", work / f"back-and-forth-{n}-sorted.jsonl"
    proc = run_process([PYTHON, str(BENCH / "interleave.py"), f"back-and-forth:{n}", "-o",
                        str(mixed)], args.timeout)
    if proc.rc != 0:
        raise SystemExit(f"interleave failed: {proc.stderr[-2000:]}")
    lines = mixed.read_text().splitlines(keepends=True)
    ordered.write_text("".join(sorted(lines, key=lambda line: json.loads(line)["effective_date"])))
    db, ref_db = work / f"interleaved-{n}.db", work / f"interleaved-{n}-sorted.db"
    fig, ref = measure_pair(
        [FINLEDGER, "--db", str(db), "import", str(mixed)],
        [FINLEDGER, "--db", str(ref_db), "import", str(ordered)],
        max(1, min(args.repeat, 3)), args.timeout,
        prepare=lambda: remove_db(db), ref_prepare=lambda: remove_db(ref_db))
    remove_db(db)
    remove_db(ref_db)
    return {"lines": n, "back_dated": json.loads(proc.stderr.strip().splitlines()[-1]),
            "figures": {"interleaved": asdict(fig), "in_order": asdict(ref)}}


def interleaved_rows(results: dict[int, dict[str, Any]]) -> list[dict[str, str]]:
    table: list[dict[str, str]] = []
    first: tuple[int, float] | None = None
    for n in sorted(results):
        figures = results[n]["figures"]
        fig, ref = Figure(**figures["interleaved"]), Figure(**figures["in_order"])
        row = {"figure": "import, dates back and forth", "events": f"{n:,}",
               "measured": f"{fmt_s(fig.seconds)} ({fmt_rate(n / fig.seconds)})" if fig.ok
               else fig.label(),
               "reference": f"{fmt_s(ref.seconds)} in date order" if ref.ok else ref.label(),
               "ratio": f"{fig.seconds / ref.seconds:.2f}x" if fig.ok and ref.ok else "",
               "target": "", "met": ""}
        if fig.ok and ref.ok:
            if first is None:
                first = (n, fig.seconds / ref.seconds)
            else:
                row["target"] = f"ratio <= 1.5x of {first[0]:,}'s"
                row["met"] = "yes" if fig.seconds / ref.seconds <= 1.5 * first[1] else "NO"
        table.append(row)
    return table


def get(result: dict[str, Any], key: str) -> Figure | None:
    raw = result.get("figures", {}).get(key)
    return Figure(**raw) if raw else None


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}/s"


def fmt_s(x: float) -> str:
    return f"{x * 1000:,.0f} ms" if x < 10 else f"{x:,.1f} s"


def rows(results: dict[int, dict[str, Any]], startup: dict[str, Any]) -> list[dict[str, str]]:
    """The table's rows: figure, size, measured, reference, ratio, target, met?"""
    table: list[dict[str, str]] = []
    small = results.get(SMALL, {})

    def add(figure: str, n: int | str, value: str, ref: str = "", ratio: str = "",  # noqa: PLR0917
            target: str = "", met: str = "") -> None:
        table.append({"figure": figure, "events": n if isinstance(n, str) else f"{n:,}",
                      "measured": value, "reference": ref, "ratio": ratio, "target": target,
                      "met": met})

    def verdict(ok: bool) -> str:
        return "yes" if ok else "NO"

    sizes = [n for n in sorted(results) if n != SMALL]

    # start-up
    help_fig = Figure(**startup["help"])
    py = Figure(**startup["python"])
    add("finledger --help", "-", fmt_s(help_fig.seconds) if help_fig.ok else help_fig.label(),
        f"python -c pass {fmt_s(py.seconds)}" if py.ok else py.label(),
        f"{help_fig.seconds / py.seconds:.1f}x" if help_fig.ok and py.ok else "",
        "< 300 ms", verdict(help_fig.seconds < 0.3) if help_fig.ok else "")
    s_small = get(small, "summary")
    if s_small is not None:
        add("report summary, small ledger", SMALL,
            fmt_s(s_small.seconds) if s_small.ok else s_small.label(), "", "", "< 300 ms",
            verdict(s_small.seconds < 0.3) if s_small.ok and s_small.seconds else "")

    for n in sizes:
        r = results[n]
        target_size = n == 100_000
        imp, raw_ins = get(r, "import"), get(r, "raw_insert")
        ref = fmt_rate(n / raw_ins.seconds) + " raw sqlite3" if raw_ins and raw_ins.ok else ""
        if imp and imp.ok and raw_ins and raw_ins.ok:
            ratio = raw_ins.seconds / imp.seconds
            add("import", n, fmt_rate(n / imp.seconds), ref, f"{ratio:.1%}",
                ">= 25% of raw (aim 50%)" if target_size else "",
                verdict(ratio >= 0.25) if target_size else "")
        else:
            add("import", n, imp.label() if imp else "", ref, "",
                ">= 25% of raw (aim 50%)" if target_size else "")
        store = get(r, "store_append")
        if store is not None and store.ok:
            add("  (bench seeding: eventsourcing append, no checks)", n, fmt_rate(n / store.seconds),
                ref, f"{raw_ins.seconds / store.seconds:.1%}" if raw_ins and raw_ins.ok else "")

    def latency(key: str, name: str, target: str | None) -> None:
        for n in sizes:
            f = get(results[n], key)
            if f is None:
                continue
            # the reference timed alternately with this figure if there is one, else the
            # 10-event ledger's own figure
            ref_fig = get(results[n], f"{key}_small") or get(small, key)
            ref = f"{fmt_s(ref_fig.seconds)} @ {SMALL} events" if ref_fig and ref_fig.ok else ""
            if f.ok and ref_fig and ref_fig.ok:
                ratio = f.seconds / ref_fig.seconds
                on_target = target is not None and n == 100_000
                add(name, n, fmt_s(f.seconds), ref, f"{ratio:.2f}x",
                    (target or "") if on_target else "", verdict(ratio <= 1.2) if on_target else "")
            else:
                add(name, n, f.label() if not f.ok else fmt_s(f.seconds), ref, "",
                    target if target and n == 100_000 else "")

    latency("record", "record warrants", "<= 1.2x small")
    latency("summary", "report summary", "<= 1.2x small")
    latency("summary_first", "  report summary, first run after import", None)
    latency("preferred_as_of", "report preferred --as-of (mid-history)", None)
    latency("preferred_as_of_first", "  report preferred --as-of, first run (builds the "
            "checkpoints)", None)

    for n in sizes:
        for report, entry in results[n].get("same_rows", {}).items():
            for form in ("table", "json"):
                figure = entry[form]
                ratio = figure["ratio"]
                rows_said = ", ".join(f"{count:,} {what}" for what, count in entry["rows"].items())
                on_target = n >= 100_000 and form == "table"
                add(f"report {report}{' --json' if form == 'json' else ''}", n,
                    fmt_s(figure["seconds"]) if ratio is not None else figure["status"],
                    f"{fmt_s(figure['small_seconds'])} same rows ({rows_said})"
                    + ("" if entry["rows_match"] else " (rows differ)"),
                    f"{ratio:.2f}x" if ratio is not None else "",
                    "<= 1.5x same rows" if on_target else "",
                    verdict(ratio <= 1.5) if on_target and ratio is not None else "")
    for n in sizes:
        r = results[n]
        f, raw_read = get(r, "verify"), get(r, "raw_read")
        ref = fmt_rate(n / raw_read.seconds) + " raw read" if raw_read and raw_read.ok else ""
        on_target = n >= 100_000
        if f and f.ok:
            rate = n / f.seconds
            add("audit verify", n, fmt_rate(rate), ref,
                f"{raw_read.seconds / f.seconds:.1%}" if raw_read and raw_read.ok else "",
                ">= 50,000/s" if on_target else "", verdict(rate >= 50_000) if on_target else "")
        elif f:
            add("audit verify", n, f.label(), ref, "", ">= 50,000/s" if on_target else "")
    for n in sizes:
        r = results[n]
        f, raw_read = get(r, "export"), get(r, "raw_read")
        ref = fmt_rate(n / raw_read.seconds) + " raw read" if raw_read and raw_read.ok else ""
        if f:
            add("export", n, fmt_rate(n / f.seconds) if f.ok else f.label(), ref,
                f"{raw_read.seconds / f.seconds:.1%}" if f.ok and raw_read and raw_read.ok else "")
    for n in sizes:
        f = get(results[n], "replay")
        if f:
            add("audit replay --json", n, fmt_s(f.seconds) if f.ok else f.label())

    for n in sizes:
        r = results[n]
        peaks = {
            k: v["maxrss_mb"] for k, v in r.get("figures", {}).items()
            if v.get("maxrss_mb") is not None and not k.startswith("raw") and k != "store_append"
            and not k.endswith("_small")
        }
        raw_ins = get(r, "raw_insert")
        if peaks:
            worst = max(peaks, key=lambda k: peaks[k])
            add("peak memory", n, f"{peaks[worst]:,.0f} MB ({worst})",
                f"{raw_ins.maxrss_mb:,.0f} MB raw insert" if raw_ins and raw_ins.ok else "",
                f"{peaks[worst] / raw_ins.maxrss_mb:.1f}x" if raw_ins and raw_ins.maxrss_mb else "",
                "< 500 MB" if n >= 1_000_000 else "",
                verdict(peaks[worst] < 500) if n >= 1_000_000 else "")
    for n in sizes:
        r = results[n]
        if "bytes_per_event" in r:
            add("bytes per event", n, f"{r['bytes_per_event']:,.0f} B",
                f"{r['raw_bytes_per_event']:,.0f} B raw sqlite3 "
                f"({r['history_bytes'] / n:,.0f} B JSON line)",
                f"{r['bytes_per_event'] / r['raw_bytes_per_event']:.2f}x")
    return table


def render(table: list[dict[str, str]], title: str) -> Table:
    t = Table(title=title, title_justify="left")
    for name, justify in (("Figure", "left"), ("Events", "right"), ("Measured", "right"),
                          ("Reference (same run)", "right"), ("Ratio", "right"),
                          ("Target", "left"), ("Met?", "left")):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    previous = None
    for row in table:
        if previous is not None and row["figure"].strip() != previous:
            t.add_section()
        previous = row["figure"].strip()
        t.add_row(row["figure"], row["events"], row["measured"], row["reference"], row["ratio"],
                  row["target"], row["met"])
    return t


# --- the whole run ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--",
                            "events", "ledger", "projections", "cli"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "commit": commit,
        "uncommitted_changes_in_code": bool(dirty),
        "load_average_1m": os.getloadavg()[0],
    }


def update_readme(text: str) -> None:
    readme = BENCH / "README.md"
    content = readme.read_text()
    start, end = content.index(README_START), content.index(README_END)
    block = f"{README_START}\n```\n{text.rstrip()}\n```\n"
    readme.write_text(content[:start] + block + content[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="finledger benchmark (see bench/README.md)")
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="comma-separated event counts (default 1000,10000,100000)")
    parser.add_argument("--million", action="store_true", help="also 1,000,000 events (long)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per latency (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per process")
    parser.add_argument("--work", type=Path, default=BENCH / ".work")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument("--update-readme", action="store_true",
                        help="replace the latest table in bench/README.md")
    parser.add_argument("--interleaved", default="1000,2000,4000,8000",
                        help="line counts of the back-and-forth import ('' for none)")
    parser.add_argument("--only-interleaved", action="store_true",
                        help="only the back-and-forth import (printed; README untouched)")
    parser.add_argument("--ledgers", metavar="ARGS", default=None,
                        help="then PostgreSQL at size, many ledgers, many writers: bench/ledgers.py "
                        "with these arguments ('' for its defaults)")
    parser.add_argument("--only-ledgers", action="store_true", help="only --ledgers")
    parser.add_argument("--peers", metavar="ARGS", default=None,
                        help="then hledger, ledger-cli and beancount on the same history: "
                        "bench/peers.py with these arguments ('' for its defaults)")
    parser.add_argument("--only-peers", action="store_true", help="only --peers")
    args = parser.parse_args(argv)
    if args.only_ledgers:
        return _ledgers(args.ledgers or "")
    if args.only_peers:
        return _peers(args.peers or "")
    interleaved_sizes = sorted({int(s.replace("_", "")) for s in args.interleaved.split(",")
                                if s.strip()})
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if args.million:
        sizes.append(1_000_000)
    args.work.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)

    interleaved = {n: bench_interleaved(n, args, args.work) for n in interleaved_sizes}
    if args.only_interleaved:
        info = machine()
        console = Console(record=True, width=150)
        console.print(render(interleaved_rows(interleaved),
                             f"finledger import, dates back and forth, {started:%Y-%m-%d %H:%M} "
                             f"UTC, commit {info['commit']}"
                             + (" + uncommitted changes" if info["uncommitted_changes_in_code"]
                                else "") + f", load {info['load_average_1m']:.1f}"))
        return 0
    startup = {
        "python": asdict(measure([PYTHON, "-c", "pass"], args.repeat * 2, 60)[0]),
        "help": asdict(measure([FINLEDGER, "--help"], args.repeat * 2, 60)[0]),
    }
    results: dict[int, dict[str, Any]] = {}
    for n in [SMALL, *[s for s in sizes if s != SMALL]]:
        results[n] = bench_size(n, args, args.work)
    remove_db(args.work / f"ledger-{SMALL}.db")

    info = machine()
    table = rows(results, startup) + interleaved_rows(interleaved)
    title = (f"finledger benchmark {started:%Y-%m-%d %H:%M} UTC, {info['cpus']} cores, "
             f"Python {info['python']}, SQLite {info['sqlite']}, commit {info['commit']}"
             + (" + uncommitted changes" if info["uncommitted_changes_in_code"] else "")
             + f", load {info['load_average_1m']:.1f}")
    console = Console(record=True, width=150)
    console.print(render(table, title))
    text = console.export_text()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "started": started.isoformat(), "machine": info, "startup": startup,
        "sizes": {str(n): r for n, r in results.items()}, "table": table,
        "interleaved": {str(n): r for n, r in interleaved.items()},
    }, indent=2) + "\n")
    args.out.with_suffix(".txt").write_text(text)
    if args.update_readme:
        update_readme(text)
    code = _ledgers(args.ledgers) if args.ledgers is not None else 0
    if args.peers is not None:
        code = _peers(args.peers) or code
    return code


def _peers(arguments: str) -> int:
    """bench/peers.py: hledger, ledger-cli and beancount on the same history (issue 18)."""
    import shlex

    import peers

    return int(peers.main(shlex.split(arguments)))


def _ledgers(arguments: str) -> int:
    """bench/ledgers.py: PostgreSQL at size, a many-ledger store, many writers."""
    import shlex

    import ledgers

    return int(ledgers.main(shlex.split(arguments)))


if __name__ == "__main__":
    sys.exit(main())
