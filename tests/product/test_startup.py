"""Start-up: each command imports only what it uses (bench/README.md, "Start-up").

Each case runs finledger in a fresh Python process and lists the modules it loaded: the
command tree is built lazily (`cli.lazy`), so a command loads its own module and not the
others'; rich loads only to draw; the store (eventsourcing) only when events are read or
written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import FIXTURES, ROOT

FIXTURE = FIXTURES / "format1.db"

LISTED = ("import sys\nfrom cli.main import run\ntry:\n    run(sys.argv[1:])\n"
          "except SystemExit:\n    pass\nsys.stderr.write('\\nLOADED ' + ' '.join(sys.modules))\n")


def loaded(*args: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160"}
    env.pop("FINLEDGER_KEY", None)
    proc = subprocess.run([sys.executable, "-c", LISTED, *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=120)
    assert "LOADED " in proc.stderr, proc.stderr
    return set(proc.stderr.rsplit("LOADED ", 1)[1].split())


def under(modules: set[str], *packages: str) -> set[str]:
    return {m for m in modules if m.split(".")[0] in packages or m in packages}


@pytest.fixture
def small(tmp_path: Path) -> str:
    path = tmp_path / "ledger.db"
    shutil.copyfile(FIXTURE, path)
    assert subprocess.run([sys.executable, "-m", "cli", "--db", str(path), "report", "summary"],
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                          capture_output=True, check=False).returncode == 0  # tables built
    return str(path)


def test_help_builds_the_listing_without_the_ledger_or_rich() -> None:
    modules = loaded("--help")
    assert "cli.record" in modules  # the listing reads each command's help
    assert not under(modules, "rich", "projections", "eventsourcing")
    assert under(modules, "ledger") <= {"ledger", "ledger.errors"}


def test_a_summary_in_json_loads_neither_other_commands_nor_rich(small: str) -> None:
    modules = loaded("--db", small, "report", "summary", "--json")
    assert "cli.report" in modules
    assert not modules & {"cli.record", "cli.audit", "cli.transfer", "cli.terms", "cli.demo",
                          "cli.log", "cli.render"}
    assert not under(modules, "rich", "eventsourcing", "sqlite_utils")


def test_a_recording_loads_no_report_module(small: str) -> None:
    modules = loaded("--db", small, "record", "common-outstanding", "100", "--date", "2003-06-01")
    assert {"cli.record", "eventsourcing"} <= modules
    assert not modules & {"cli.report", "cli.audit", "cli.transfer", "cli.terms", "cli.quarter"}
    assert not under(modules, "sqlite_utils", "pluggy", "openpyxl", "jsonschema")
