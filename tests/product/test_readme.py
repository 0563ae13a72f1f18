"""Every example in the README runs, in order, and prints what the README shows.

How the README's fenced blocks are run (write new sections to this convention):

- Every block fenced as ```bash or ```console runs, top to bottom, in one bash session in a
  fresh scratch directory (so an `export` in one block holds for the blocks after it, as for a
  reader following along in one terminal). `finledger` is this checkout (`python -m cli`); no
  FINLEDGER_* variable, COLUMNS or NO_COLOR is set at the start.
- A ```bash block is a script: every command in it must succeed (exit 0). Its output is not
  compared (comments such as `# prints a new key` describe it).
- A ```console block is a transcript: each `$ ` line is a command (a line ending in `\\`
  continues on the next), and the lines after it, up to the next `$ ` line, are what it prints,
  stdout and stderr together. Its exit status is not checked (a transcript may show a refusal);
  its output must be the lines shown, with these allowances only:
  * a 64-hex-digit hash matches any 64-hex-digit hash (hashes cover the recording time);
  * output that is JSON (an array, or one value per line) matches JSON of the same value,
    however it is laid out (`--json` pretty-prints; a README may show one item per line);
  * trailing spaces are ignored.
- A block is not run when the line just before its fence is an HTML comment
  `<!-- readme-test: not run (REASON) -->`; say why (it installs, needs a server, is the test
  suite itself, takes minutes). Blocks fenced otherwise (```, ```text, ```python) never run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.paths import ROOT

README = ROOT / "README.md"
NOT_RUN = re.compile(r"^<!-- readme-test: not run \((?P<reason>[^)]+)\) -->$")
HASH = re.compile(r"\b[0-9a-f]{64}\b")


@dataclass
class Block:
    kind: str  # bash or console
    line: int  # where its fence is in the README (1-based)
    text: str
    skip: str | None = None  # the reason it is not run


@dataclass
class Step:
    command: str
    shown: list[str] = field(default_factory=list)
    line: int = 0


def blocks(text: str) -> list[Block]:
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        kind = fence.group(1)
        if kind in ("bash", "console"):
            before = lines[i - 1] if i else ""
            marked = NOT_RUN.match(before)
            found.append(Block(kind, i + 1, "\n".join(lines[i + 1:end]),
                               marked.group("reason") if marked else None))
        elif NOT_RUN.match(lines[i - 1] if i else ""):
            raise AssertionError(f"README line {i}: a not-run mark before a block that never runs")
        i = end + 1
    return found


def transcript(block: Block) -> list[Step]:
    steps: list[Step] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                command += "\n" + lines[i]
            steps.append(Step(command, line=block.line + 1 + i))
        elif steps:
            steps[-1].shown.append(line)
        else:
            raise AssertionError(f"README line {block.line}: a console block must start with `$ `")
        i += 1
    return steps


MARK = "@@readme-step"


def script(runnable: list[Block]) -> tuple[str, list[Step]]:
    """One bash script for every runnable block, each console step's output fenced by marks."""
    parts = ["set -u"]
    steps: list[Step] = []
    for block in runnable:
        if block.kind == "bash":
            parts += [f"echo '{MARK} bash {block.line}'", "set -e",
                      f"trap 'echo \"{MARK} failed {block.line}: $BASH_COMMAND\"; exit 97' ERR",
                      block.text, "trap - ERR", "set +e"]
        else:
            for step in transcript(block):
                parts += [f"echo '{MARK} step {len(steps)}'", "{", step.command, "} 2>&1"]
                steps.append(step)
    parts.append(f"echo '{MARK} end'")
    return "\n".join(parts) + "\n", steps


def scratch_env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "finledger"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m cli "$@"\n')
    shim.chmod(0o755)
    if shutil.which("sqlite3") is None:  # the README's tampering example, on any machine
        tool = bin_dir / "sqlite3"
        tool.write_text(f'#!{sys.executable}\nimport sqlite3, sys\n'
                        'db = sqlite3.connect(sys.argv[1])\ndb.executescript(sys.argv[2])\n'
                        'db.commit()\n')
        tool.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FINLEDGER_") and k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def same_json(shown: list[str], printed: list[str]) -> bool:
    def parse(lines: list[str]) -> object:
        text = "\n".join(lines).strip()
        try:
            return json.loads(text)
        except ValueError:
            return [json.loads(line) for line in lines if line.strip()]

    try:
        a, b = parse(shown), parse(printed)
    except ValueError:
        return False
    return b in (a, [a]) or a == [b]


def matches(shown: list[str], printed: list[str]) -> bool:
    def norm(lines: list[str]) -> list[str]:
        return [HASH.sub("<hash>", line.rstrip()) for line in lines]

    while shown and not shown[-1].strip():
        shown = shown[:-1]
    while printed and not printed[-1].strip():
        printed = printed[:-1]
    if norm(shown) == norm(printed):
        return True
    return bool(shown) and shown[0].lstrip()[:1] in "[{" and same_json(shown, printed)


def test_every_readme_example_runs_and_prints_what_it_shows(tmp_path: Path) -> None:
    found = blocks(README.read_text(encoding="utf-8"))
    runnable = [b for b in found if b.skip is None]
    assert runnable and any(b.kind == "console" for b in runnable)
    text, steps = script(runnable)
    work = tmp_path / "scratch"
    work.mkdir()
    (tmp_path / "readme.sh").write_text(text)
    done = subprocess.run(["bash", str(tmp_path / "readme.sh")], cwd=work,
                          env=scratch_env(tmp_path), capture_output=True, text=True,
                          timeout=600, check=False)
    output = done.stdout
    failed = re.search(rf"^{MARK} failed (\d+): (.*)$", output, re.M)
    assert not failed, (f"README block at line {failed.group(1)}: `{failed.group(2)}` failed:\n"
                        f"{output[-3000:]}\n{done.stderr[-3000:]}")
    assert output.rstrip().endswith(f"{MARK} end"), f"{output[-3000:]}\n{done.stderr[-3000:]}"
    printed: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        mark = re.match(rf"^{MARK} (step (\d+)|bash \d+|end)$", line)
        if mark:
            current = printed.setdefault(int(mark.group(2)), []) if mark.group(2) else None
        elif current is not None:
            current.append(line)
    wrong = [(s, printed.get(i, [])) for i, s in enumerate(steps)
             if not matches(s.shown, printed.get(i, []))]
    assert not wrong, "\n\n".join(
        f"README line {s.line}: $ {s.command}\n--- shown\n" + "\n".join(s.shown)
        + "\n--- printed\n" + "\n".join(p) for s, p in wrong)


def test_the_blocks_not_run_say_why() -> None:
    found = blocks(README.read_text(encoding="utf-8"))
    skipped = [b for b in found if b.skip is not None]
    assert all(b.skip and len(b.skip) > 10 for b in skipped)
    # The few that cannot run here: installing, a PostgreSQL server, the suite, the benchmark.
    assert len(skipped) <= len(found) // 2


def test_the_runner_compares_what_it_should() -> None:
    assert matches(["OK: 9 events; head 9 " + "a" * 64], ["OK: 9 events; head 9 " + "b" * 64])
    assert not matches(["OK: 9 events"], ["OK: 8 events"])
    assert matches(['{"a": 1}', '{"a": 2}'], ["[", '  {"a": 1},', '  {"a": 2}', "]"])
    assert not matches(['{"a": 1}'], ["[", '  {"a": 2}', "]"])
    assert matches(["x  "], ["x"])
    example = Block("console", 1, "$ finledger a \\\n  --b\nout 1\n$ finledger c\n")
    assert [(s.command, s.shown) for s in transcript(example)] == [
        ("finledger a \\\n  --b", ["out 1"]), ("finledger c", [])]


@pytest.mark.parametrize("marked", [True, False])
def test_the_not_run_mark_applies_to_the_next_block_only(marked: bool) -> None:
    mark = "<!-- readme-test: not run (needs a server nobody has) -->\n" if marked else ""
    text = f"{mark}```bash\nfinledger init\n```\n\n```console\n$ finledger init\n```\n"
    first, second = blocks(text)
    assert (first.skip is not None) is marked and second.skip is None


def test_the_readme_carries_the_reference_a_user_needs() -> None:
    """The README cites no document a user of the project lacks: the commands reference and
    the computations ship in docs/, and the commands reference names every command."""
    from tests.product.test_docs import ALL

    text = README.read_text(encoding="utf-8")
    for doc in ("docs/commands.md", "docs/computations.md"):
        assert f"]({doc})" in text and (ROOT / doc).is_file()
    assert not re.search(r"\b(CLI|DOMAIN)\.md\b", text)
    commands = (ROOT / "docs/commands.md").read_text(encoding="utf-8")
    missing = [" ".join(path) for path, _ in ALL
               if f"finledger {' '.join(path)}" not in commands]
    assert not missing, f"docs/commands.md does not show: {missing}"
    computations = (ROOT / "docs/computations.md").read_text(encoding="utf-8")
    for rule in ("Rounding", "Day count", "Accrual", "Conversion of N shares", "Fully diluted"):
        assert f"**{rule}" in computations
