"""Every command has help text with an example, and the README shows each one in use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cli.main import _command
from tests.paths import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


ALL = list(_commands(_command()))


def test_the_command_tree_is_what_cli_md_promises() -> None:
    names = {" ".join(path) for path, _ in ALL}
    promised = {
        "init", "log", "export", "import", "keygen", "demo",
        "record series", "record authorization", "record closing", "record warrants",
        "record exercise", "record dividend", "record conversion", "record common-outstanding",
        "record reversal", "report preferred", "report warrants", "report capital",
        "report summary", "audit verify", "audit replay",
    }
    assert promised <= names


@pytest.mark.parametrize(("path", "command"), ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_has_help_with_an_example_and_a_readme_entry(
    path: tuple[str, ...], command: Any
) -> None:
    assert command.help and len(command.help.strip()) > 20
    assert "Example:" in command.help
    assert f"finledger {' '.join(path)}" in README or f"{' '.join(path)} " in README
