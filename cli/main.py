"""The `finledger` command: parse, make one call to the ledger service, render.

Errors are caught here and only here: a `LedgerError` (a refusal) prints one `Error: ...` line
on stderr and exits 1; a malformed command line prints one line and exits 2. Anything else is
a bug and keeps its traceback.

The commands are listed in COMMANDS (in `--help` order) by where they live; each one's module
is imported, and its click command built, only when it is run or listed (`cli.lazy`).
"""

from __future__ import annotations

import functools
import sys
from typing import Annotated, Any

import typer
from typer._click.exceptions import NoArgsIsHelpError
from typer.exceptions import TyperException

from app.errors import LedgerError, MalformedOption
from cli import context
from cli.console import fail_line, out
from cli.context import Settings, service

app = typer.Typer(
    rich_markup_mode=None,  # plain click help: no markdown parser at start-up
    name="finledger",
    help="An event-sourced ledger for convertible preferred stock, warrants and the capital "
    "they raise.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},  # inherited by every command
)

# Every command, in `--help` order: "module:function", or "module:app" for a group.
COMMANDS = {
    "export": "cli.transfer:export",
    "ledgers": "cli.ledgers:ledgers",
    "import": "cli.transfer:import_",
    "demo": "cli.demo:demo",
    "init": "cli.main:init",
    "log": "cli.log:log",
    "keygen": "cli.main:keygen",
    "record": "cli.record:app",
    "audit": "cli.audit:app",
    "report": "cli.report:app",
}
# Commands a group lists after its own (the terms that change, DOMAIN.md 12-14).
EXTRA = {
    "record": {"split": "cli.terms:split", "adjustment": "cli.terms:adjustment"},
    "report": {"terms": "cli.terms:report_terms"},
}


def version_text() -> str:
    """The installed distribution's version, or (run from a checkout) pyproject's."""
    from importlib import metadata

    try:
        return metadata.version("finledger")
    except metadata.PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"finledger {version_text()}\n")
        raise typer.Exit(0)


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        "--db", envvar="FINLEDGER_DB", show_envvar=True, metavar="TARGET",
        help="Ledger: a SQLite file path or postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME.")]
        = None,
    actor: Annotated[str | None, typer.Option(
        "--actor", envvar="FINLEDGER_ACTOR", metavar="NAME",
        help="Who is recording (default: the OS user).")] = None,
    ledger_name: Annotated[str | None, typer.Option(
        "--ledger", envvar="FINLEDGER_LEDGER", show_envvar=True, metavar="NAME",
        help="Which ledger of the store (one per issuer; default: main).")] = None,
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_print_version,
        help="Print finledger's version and exit.")] = False,
) -> None:
    """finledger: record financings as events; report what is outstanding; prove it."""
    if ledger_name is None:  # the default ledger (`Settings.ledger`)
        ctx.obj = Settings(db=db or "finledger.db", actor=actor)
        return
    from app.inputs import clean_ledger_name

    ctx.obj = Settings(db=db or "finledger.db", actor=actor, ledger=clean_ledger_name(ledger_name))


def init(ctx: typer.Context) -> None:
    """Create the ledger store explicitly (the first recording command also does).

    Example: finledger --db spectrum.db init
    """
    out().print(f"Ledger ready at {service(ctx).init()}", markup=False)


def keygen() -> None:
    """Print a new key for FINLEDGER_KEY (encrypts a new ledger's events at rest).

    Example: export FINLEDGER_KEY=$(finledger keygen)
    """
    from app.service import new_key

    sys.stdout.write(new_key() + "\n")


def _usage_line(exc: TyperException) -> str:
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    message = message.replace("Value error, ", "")
    cause = exc.__context__
    hint = getattr(getattr(exc, "param", None), "opts", None) or []
    if isinstance(cause, ValueError) and str(cause) and hint:
        # A value parser's own words (what was wrong, what would be right); click keeps
        # only the value.
        message = f"Invalid value for '{hint[0]}': {cause}"
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        return f"{message} (see `{ctx.command_path} --help`)"
    return str(message)


@functools.cache
def _command() -> Any:
    """The click command tree, built once per process; each command in it only when asked
    for (`cli.lazy`)."""
    from cli.lazy import LazyCommands, Tree, plain_metavars

    command: Any = typer.main.get_command(app)
    plain_metavars(command)
    tree = Tree(app)
    command.commands = LazyCommands(
        {name: tree.lazy(name, where, EXTRA.get(name, {})) for name, where in COMMANDS.items()})
    return command


def run(argv: list[str] | None = None) -> None:
    """Entry point: run the command and turn refusals into one line and an exit code."""
    command = _command()
    context.forget()
    try:
        rc = command.main(args=argv, prog_name="finledger", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # a group without its command: its help, as click
        exc.show()
        sys.exit(exc.exit_code)
    except MalformedOption as exc:
        fail_line(str(exc))
        sys.exit(2)
    except LedgerError as exc:
        fail_line(str(exc))
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        fail_line("aborted")
        sys.exit(1)
    except TyperException as exc:
        fail_line(_usage_line(exc))
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(1)
    except KeyboardInterrupt:
        fail_line("interrupted; nothing half-written is kept")
        sys.exit(130)
    except Exception:
        damage = context.damaged()  # a damaged ledger is said in one line; a bug is not
        if damage is None:
            raise
        fail_line(damage)
        sys.exit(1)
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    run()
