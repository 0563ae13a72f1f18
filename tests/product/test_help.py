"""Help a newcomer can read: groups without a command print their help, `-h` and `--version`
work, usage lines show the metavariables users expect, and shell completion offers the
ledger's own series names, holders and references."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli.main import _command
from tests.conftest import invoke
from tests.paths import ROOT


@pytest.mark.parametrize("group", [[], ["record"], ["report"], ["audit"]])
def test_a_group_without_a_command_prints_its_normal_help(group: list[str]) -> None:
    r = invoke(*group)
    assert r.code in (0, 2)
    text = r.out + r.err
    assert "Error:" not in text
    assert text.startswith(f"Usage: finledger {' '.join([*group, ''])}".replace("  ", " "))
    assert "\nCommands:\n" in text and text.count("\n") > 8
    assert text == invoke(*group, "--help").out


def test_dash_h_is_help_everywhere() -> None:
    assert invoke("-h").out == invoke("--help").out
    assert invoke("record", "series", "-h").out == invoke("record", "series", "--help").out
    assert invoke("-h").code == 0


def test_version() -> None:
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    r = invoke("--version")
    assert r.code == 0 and r.out == f"finledger {pyproject['project']['version']}\n"


def test_usage_lines_show_plain_metavariables() -> None:
    expected = {
        ("import",): "Usage: finledger import [OPTIONS] FILE",
        ("record", "series"): "Usage: finledger record series [OPTIONS] NAME",
        ("record", "reversal"): "Usage: finledger record reversal [OPTIONS] POSITION",
        ("record", "exercise"): "Usage: finledger record exercise [OPTIONS] WARRANT_REF",
        ("record", "common-outstanding"):
            "Usage: finledger record common-outstanding [OPTIONS] N",
    }
    for path, usage in expected.items():
        assert invoke(*path, "--help").out.splitlines()[0] == usage

    def walk(command: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        subs = getattr(command, "commands", {})
        found = [path] if not subs else []
        for name, sub in subs.items():
            found += walk(sub, (*path, name))
        return found

    for path in walk(_command()):
        text = invoke(*path, "--help").out
        assert not re.search(r"\{[A-Za-z_]+\}|<str>|<int>", text), (path, text)


def complete(target: str, line: str) -> list[str]:
    """What zsh completion offers for the command line typed so far."""
    r = invoke(env={"_FINLEDGER_COMPLETE": "complete_zsh",
                    "_TYPER_COMPLETE_ARGS": f"finledger --db {target} {line}"})
    assert r.code == 0, r.err
    return re.findall(r'"((?:[^"\\]|\\.)*)"', r.out)


@pytest.fixture
def spectrum(tmp_path: Path) -> str:
    target = str(tmp_path / "l.db")
    for command in (
        ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
         "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"],
        ["record", "series", "Series E", "--date", "2003-05-08", "--stated-value", "10000",
         "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"],
        ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
         "--investor", "SCO Capital Partners=150", "--investor", "SDS Merchant Fund=100"],
        ["record", "warrants", "--holder", "SCO Capital Partners", "--shares", "100",
         "--exercise-price", "3.00", "--date", "2003-05-08", "--ref", "W-D1-300"],
        ["record", "warrants", "--holder", "SCO Capital Partners", "--shares", "100",
         "--exercise-price", "3.50", "--date", "2003-05-08", "--ref", "W-D1-350"],
    ):
        assert invoke("--db", target, *command).code == 0
    return target


def test_completion_offers_the_ledgers_series_holders_and_references(spectrum: str) -> None:
    assert complete(spectrum, "record dividend ") == ["Series D", "Series E"]
    assert complete(spectrum, "record conversion Ser") == ["Series D", "Series E"]
    assert complete(spectrum, "record closing ") == ["Series D", "Series E", "common"]
    assert complete(spectrum, "record exercise W-D1-3") == ["W-D1-300", "W-D1-350"]
    assert complete(spectrum, 'record conversion "Series D" --holder S') == [
        "SCO Capital Partners", "SDS Merchant Fund"]
    assert complete(spectrum, "record warrants --closing ") == ["D-1"]


def test_completion_on_a_missing_ledger_offers_nothing_and_creates_nothing(
    tmp_path: Path
) -> None:
    target = tmp_path / "none.db"
    assert complete(str(target), "record dividend ") == []
    assert not target.exists()
