"""Lazy command loading, as click's documentation shows it ("lazily loading subcommands").

The command tree names every command and where it lives (`module:attribute`, a command
function or a `typer.Typer` group), but a command's module is imported, and typer builds its
click command, only when click asks for that command: running `finledger record warrants`
imports `cli.record` and builds the `record` group and its `warrants` command, nothing else.
A group's `--help` (and shell completion of its command names) builds the commands it lists,
so the listings and every option read exactly as when the whole tree was built at once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

import typer
from typer.core import TyperArgument
from typer.main import get_command_from_info, get_command_name, get_group_from_info
from typer.models import CommandInfo, TyperInfo

Command = Any  # typer's (vendored) click.Command
Build = Callable[[], Command]


class LazyCommands(MutableMapping[str, Command]):
    """A group's commands by name, in listing order, each built on first use."""

    def __init__(self, builds: Mapping[str, Build]) -> None:
        self._builds = dict(builds)
        self._built: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            command = self._builds[name]()  # (KeyError: no such command)
            plain_metavars(command)
            self._built[name] = command
        return self._built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._builds.setdefault(name, lambda: command)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._builds[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._builds)

    def __len__(self) -> int:
        return len(self._builds)


class Tree:
    """How typer builds each command of one program (the root `typer.Typer`'s settings)."""

    def __init__(self, root: typer.Typer) -> None:
        self.root = root

    def command(self, name: str, callback: Callable[..., Any]) -> Command:
        return get_command_from_info(
            CommandInfo(name=name, callback=callback),
            pretty_exceptions_short=self.root.pretty_exceptions_short,
            rich_markup_mode=self.root.rich_markup_mode,
        )

    def group(self, name: str, sub: typer.Typer, extra: Mapping[str, str] = {}) -> Command:
        """The group `sub` added as `name` (what `add_typer(sub, name=name)` builds), its
        own commands and the `extra` ones (name: "module:function") built when asked for."""
        shell = copy.copy(sub)
        shell.registered_commands = []
        shell.registered_groups = []
        group = get_group_from_info(
            TyperInfo(shell, name=name),
            pretty_exceptions_short=self.root.pretty_exceptions_short,
            rich_markup_mode=self.root.rich_markup_mode,
            suggest_commands=self.root.suggest_commands,
        )
        builds: dict[str, Build] = {}
        for info in sub.registered_commands:
            assert info.callback is not None
            named = info.name or get_command_name(info.callback.__name__)
            builds[named] = _info_build(self, info)
        for named, where in extra.items():
            builds[named] = self.lazy(named, where)
        group.commands = LazyCommands(builds)
        return group

    def lazy(self, name: str, where: str, extra: Mapping[str, str] = {}) -> Build:
        """What builds the command `name` from "module:attribute" (imported then)."""

        def build() -> Command:
            module, attribute = where.split(":")
            # (__import__ rather than importlib: `python -X importtime` times what it loads)
            found = getattr(__import__(module, fromlist=[attribute]), attribute)
            if isinstance(found, typer.Typer):
                return self.group(name, found, extra)
            return self.command(name, found)

        return build


def _info_build(tree: Tree, info: CommandInfo) -> Build:
    def build() -> Command:
        return get_command_from_info(
            info,
            pretty_exceptions_short=tree.root.pretty_exceptions_short,
            rich_markup_mode=tree.root.rich_markup_mode,
        )

    return build


class PlainArgument(TyperArgument):
    """An argument shown in usage lines as users expect (`FILE`, `[FILE]`), not typer's
    `{FILE}`."""

    def make_metavar(self, ctx: Any, *, usage: bool = False) -> str:
        var = self.metavar or (self.name or "").upper()
        if usage and not self.required:
            var = f"[{var}]"
        return var + ("..." if self.nargs != 1 else "")


def plain_metavars(command: Command) -> None:
    for param in getattr(command, "params", []):
        if type(param) is TyperArgument:
            param.__class__ = PlainArgument
