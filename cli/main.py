"""The `finledger` command: parse, make one call to the ledger service, render.

Errors are caught here and only here: a `LedgerError` (a refusal) prints one `Error: ...` line
on stderr and exits 1; a malformed command line prints one line and exits 2. Anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from datetime import date
from typing import Annotated, Any

import typer
from typer._click.exceptions import NoArgsIsHelpError
from typer.core import TyperArgument
from typer.exceptions import TyperException

from app.errors import LedgerError, MalformedOption
from cli import audit, context, ledgers, record, report, terms, transfer
from cli.console import fail_line, out
from cli.context import Settings, service
from cli.output import Csv, Workbook, choose, emit
from cli.params import parse_date

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
app.add_typer(record.app, name="record")
app.add_typer(audit.app, name="audit")
app.command("export")(transfer.export)
app.command("ledgers")(ledgers.ledgers)
app.command("import")(transfer.import_)
app.add_typer(report.app, name="report")
terms.install(record.app, report.app)


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
    from app.inputs import DEFAULT, clean_ledger_name

    ctx.obj = Settings(db=db or "finledger.db", actor=actor,
                       ledger=clean_ledger_name(ledger_name) if ledger_name is not None else DEFAULT)


@app.command("demo")
def demo(ctx: typer.Context) -> None:
    """Record the May 2003 Series D financing of Spectrum Pharmaceuticals into an empty
    ledger, then print the capital raised, the warrant overhang and the summary as of
    14 May 2003.

    Example: finledger --db demo.db demo
    """
    from cli import demo as demo_module  # loaded only when run: it pulls in everything

    demo_module.demo(ctx)


@app.command("init")
def init(ctx: typer.Context) -> None:
    """Create the ledger store explicitly (the first recording command also does).

    Example: finledger --db spectrum.db init
    """
    out().print(f"Ledger ready at {service(ctx).init()}", markup=False)


@app.command("log")
def log(
    ctx: typer.Context,
    *,
    since: Annotated[
        date | None, typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help="Effective on or after.")
    ] = None,
    until: Annotated[
        date | None, typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help="Effective on or before.")
    ] = None,
    event_type: Annotated[
        str | None, typer.Option("--type", metavar="EVENT",
                                  help="Only this event type, e.g. ClosingCompleted.")
    ] = None,
    holder: Annotated[str | None, typer.Option(
        "--holder", metavar="NAME", help="Only events that involve this holder.")] = None,
    series: Annotated[str | None, typer.Option(
        "--series", metavar="NAME", help="Only events of this series.")] = None,
    ref: Annotated[str | None, typer.Option(
        "--ref", metavar="REF", help="Only the event with this reference, and those naming it.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, oldest first.")] = False,
    as_csv: Csv = False,
    workbook: Workbook = None,
) -> None:
    """List recorded events in recording order.

    Example: finledger log --type ClosingCompleted --since 2003-05-01;
    finledger log --holder "Xmark Funds"
    """
    from app.events import EVENTS_BY_NAME

    if event_type is not None and event_type not in EVENTS_BY_NAME:
        raise typer.BadParameter(
            f"{event_type!r} is not an event type; use one of {', '.join(EVENTS_BY_NAME)}",
            param_hint="'--type'",
        )
    output = choose(as_json, as_csv, workbook)
    ledger = service(ctx)
    entries = ledger.log(since=since, until=until, event_type=event_type, holder=holder,
                         series=series, ref=ref)
    head = ledger.head(refuse=output.workbook) if output.workbook is not None else None
    from app.reports import describe_log
    from cli.render import log_table

    emit(describe_log(entries), output, draw=log_table, head=lambda: head or (0, ""))


@app.command("keygen")
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
    """typer builds the click command tree once per process."""
    command = typer.main.get_command(app)
    _plain_metavars(command)
    return command


class _PlainArgument(TyperArgument):
    """An argument shown in usage lines as users expect (`FILE`, `[FILE]`), not typer's
    `{FILE}`."""

    def make_metavar(self, ctx: Any, *, usage: bool = False) -> str:
        var = self.metavar or (self.name or "").upper()
        if usage and not self.required:
            var = f"[{var}]"
        return var + ("..." if self.nargs != 1 else "")


def _plain_metavars(command: Any) -> None:
    for param in getattr(command, "params", []):
        if type(param) is TyperArgument:
            param.__class__ = _PlainArgument
    for sub in getattr(command, "commands", {}).values():
        _plain_metavars(sub)


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
